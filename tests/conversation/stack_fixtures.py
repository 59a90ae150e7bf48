"""The ``make_stack`` and ``stack`` fixtures, shared by the conversation and fault tests (each
conftest imports it): conversation stacks on the shared Redis, closed after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conversation_stack import Stack, StackFactory, open_stack
from redis.asyncio import Redis


@pytest.fixture
async def make_stack(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[StackFactory]:
    """Build stacks (SQLite unless ``database_url=`` is given); closed after the test."""
    stacks: list[Stack] = []

    async def make(**options: Any) -> Stack:
        options.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}")
        stack = await open_stack(
            redis_client=redis_client,
            redis_url=redis_url,
            prefix=redis_prefix,
            data_dir=tmp_path / "data",
            **options,
        )
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        await stack.close()


@pytest.fixture
async def stack(make_stack: StackFactory) -> Stack:
    """A stack on SQLite with its ARQ worker running."""
    built = await make_stack()
    await built.start_worker()
    return built
