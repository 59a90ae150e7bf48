"""Fixtures: a migrated database (SQLite, or both backends where asked) and the admin API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from governance.governance_support import AdminApi, open_database, serve_admin_api
from redis.asyncio import Redis

from core.storage.db import Database


@pytest.fixture
async def database(sqlite_database_url: str) -> AsyncIterator[Database]:
    db = await open_database(sqlite_database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def any_database(database_url: str) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL."""
    db = await open_database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def api(
    database: Database, tmp_path: Path, redis_url: str, redis_prefix: str, redis_client: Redis
) -> AsyncIterator[AdminApi]:
    """Served with rate-limit counters under ``redis_prefix`` (removed afterwards by
    ``redis_client``)."""
    async with serve_admin_api(database, tmp_path, redis_url, prefix=redis_prefix) as served:
        yield served


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """``nexus`` configures logging onto the runner's stream, which closes when the
    command ends: put back the configuration the rest of the session logs through."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
