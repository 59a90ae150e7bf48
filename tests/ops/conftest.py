"""Fixtures of the operations tests (metrics, readiness, logs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ops_support import App, charts_available, running_app
from redis.asyncio import Redis


@pytest.fixture
async def app(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[App]:
    """The real app in ``dev`` wiring on real Redis, with the in-process ARQ worker."""
    async with running_app(
        redis_url=redis_url,
        prefix=redis_prefix,
        data_dir=tmp_path / "data",
        charts=charts_available(),
    ) as running:
        yield running
