"""Fixtures for the Teams adapter: the fake channel auth (another thread), the fake
Bot Connector, and Nexus started with the Teams plugin on real Redis + SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_bot_framework import FakeChannelAuth, FakeConnector
from redis.asyncio import Redis
from teams_harness import StartNexus, TeamsNexus, teams_settings

from bot.runtime import Mode


@pytest.fixture
def channel_auth() -> Iterator[FakeChannelAuth]:
    fake = FakeChannelAuth().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = await FakeConnector().start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def start_nexus(
    channel_auth: FakeChannelAuth,
    redis_url: str,
    redis_client: Redis,
    redis_prefix: str,
    tmp_path: Path,
) -> AsyncIterator[StartNexus]:
    """``await start_nexus(mode="dev", charts=True, **settings)``; closed afterwards.
    ``authenticated=False`` starts without app credentials (settings decide the rest)."""
    started: list[TeamsNexus] = []

    async def start(
        mode: Mode = "serve", charts: bool = False, authenticated: bool = True, **settings: Any
    ) -> TeamsNexus:
        config = teams_settings(
            channel_auth if authenticated else None,
            redis_url=settings.pop("redis_url", redis_url),
            prefix=redis_prefix,
            tmp_path=tmp_path,
            **settings,
        )
        nexus = await TeamsNexus.start(config, mode=mode, charts=charts)
        started.append(nexus)
        return nexus

    yield start
    for nexus in started:
        await nexus.close()
    async for key in redis_client.scan_iter(match=f"arq:*{redis_prefix}:*", count=1000):
        await redis_client.delete(key)
