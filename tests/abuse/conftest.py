"""Fixtures of the abuse tests: the real app with every platform, on real Redis."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# The platform table (how to sign, where to post) lives with the load bench.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from abuse_support import Nexus, open_nexus
from fake_bot_framework import FakeChannelAuth
from redis.asyncio import Redis
from teams_platform import CHANNEL_KEY


@pytest.fixture(scope="session")
def teams_channel() -> Iterator[FakeChannelAuth]:
    """The fake Teams channel (OpenID metadata + JWKS of the platform table's fixed
    key), one for the session: it holds no state a test could leave behind."""
    channel = FakeChannelAuth(key=CHANNEL_KEY).start()
    try:
        yield channel
    finally:
        channel.stop()


@pytest.fixture
async def nexus(
    redis_url: str,
    redis_client: Redis,
    redis_prefix: str,
    tmp_path: Path,
    teams_channel: FakeChannelAuth,
) -> AsyncIterator[Nexus]:
    async with open_nexus(
        redis_url=redis_url, redis=redis_client, prefix=redis_prefix, tmp_path=tmp_path,
        channel=teams_channel,
    ) as app:  # fmt: skip
        yield app
    # ARQ's job keys carry the prefix in the job id; the queue itself is under it.
    async for key in redis_client.scan_iter(match=f"arq:*{redis_prefix}*", count=1000):
        await redis_client.delete(key)
