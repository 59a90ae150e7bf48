"""Fixtures of the fault tests: the conversation stack (tests/conversation) and the
app with every platform (tests/abuse), on Redis servers and proxies these tests own."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import plotly.express as px
import pytest

TESTS = Path(__file__).resolve().parents[1]
for helpers in (TESTS / "conversation", TESTS / "abuse", TESTS.parent / "bench"):
    sys.path.insert(0, str(helpers))

from conversation_stack import Stack, StackFactory, open_stack  # noqa: E402
from private_redis import PrivateRedis  # noqa: E402
from redis.asyncio import Redis  # noqa: E402


@pytest.fixture(scope="session")
def tips_csv() -> bytes:
    return px.data.tips().to_csv(index=False).encode()


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, persisting every write (AOF, fsync always)."""
    server = PrivateRedis(tmp_path / "redis-aof", appendonly=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def plain_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own that keeps nothing across a restart."""
    server = PrivateRedis(tmp_path / "redis-plain", appendonly=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def make_stack(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[StackFactory]:
    """The conversation stack on the shared Redis (``database_url=`` required)."""
    stacks: list[Stack] = []

    async def make(**options: Any) -> Stack:
        stack = await open_stack(
            redis_client=redis_client, redis_url=redis_url, prefix=redis_prefix,
            data_dir=tmp_path / "data", **options,
        )  # fmt: skip
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        await stack.close()
