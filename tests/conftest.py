"""Shared fixtures: real Redis, real PostgreSQL, real SQLite.

The services are required, not optional: if Redis or PostgreSQL is unreachable the
tests that need them FAIL with a message saying so (``.ci/run`` starts both). Point
them elsewhere with ``NEXUS_TEST_REDIS_URL`` and ``NEXUS_TEST_POSTGRES_URL`` (an admin
database the tests may ``CREATE DATABASE`` from).

Isolation from other test runs on the same services: every test gets its own Redis
key prefix (and deletes only keys under it) and its own PostgreSQL database
(dropped afterwards); nothing is flushed wholesale.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import plotly.express as px
import pytest
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.engine import make_url

REDIS_URL = os.environ.get("NEXUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "NEXUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis URL, checked once: unreachable means fail, not skip."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is required at {REDIS_URL} (NEXUS_TEST_REDIS_URL): {exc}")
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix unique to this test; use it for every key the test writes."""
    return f"nexus-test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(redis_url: str, redis_prefix: str) -> AsyncIterator[Redis]:
    """An asyncio Redis client; keys under ``redis_prefix`` are deleted afterwards.

    The pool blocks instead of opening thousands of sockets under heavy concurrency.
    """
    pool: BlockingConnectionPool = BlockingConnectionPool.from_url(
        redis_url, max_connections=64, timeout=30
    )
    client = Redis(connection_pool=pool)
    try:
        yield client
    finally:
        async for key in client.scan_iter(match=f"{redis_prefix}*", count=1000):
            await client.delete(key)
        # aclose() is redis-py 5 API; the installed types-redis stubs predate it.
        await client.aclose()  # type: ignore[attr-defined]
        await pool.aclose()  # type: ignore[attr-defined]


async def _admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is required at {POSTGRES_URL} (NEXUS_TEST_POSTGRES_URL): {exc}")


@pytest.fixture
async def pg_database_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database (async URL), dropped after the test."""
    name = f"nexus_test_{uuid.uuid4().hex[:16]}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await _admin_connection()
        try:
            # FORCE: a test that forgot to dispose its engine must not leak the database.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A SQLite file in the test's temporary directory (async URL)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs twice: on SQLite and on PostgreSQL."""
    fixture = "sqlite_database_url" if request.param == "sqlite" else "pg_database_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="session")
def tips_csv() -> bytes:
    """plotly's tips dataset (244 rows × 7 columns) as CSV bytes."""
    return px.data.tips().to_csv(index=False).encode()


@pytest.fixture(autouse=True)
def _no_proxy_no_platform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack-sdk and botbuilder's requests honour HTTP(S)_PROXY (slack-sdk ignores
    # NO_PROXY), and bolt reads SLACK_* itself: platform settings come from the tests.
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name.startswith(("SLACK_", "DISCORD_", "TEAMS_")):
            monkeypatch.delenv(name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A test that opened a milvus-lite file without closing its store must not keep the
    run alive at exit (see :func:`core.retrieval.store.release_embedded_server`)."""
    from core.retrieval.store import release_embedded_server

    release_embedded_server()
