"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from core.storage.db import MIGRATIONS_DIR, Database, alembic_config, normalize_url
from core.storage.models import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migration_matches_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()
        await db.migrate()  # idempotent: every process calls it at start
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = await conn.run_sync(_tables)
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        await db.dispose()


async def test_downgrade_removes_everything_and_upgrade_restores(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.migrate()
        await db.downgrade("base")
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
        await db.migrate()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await db.dispose()


def test_migrations_ship_inside_the_package() -> None:
    assert MIGRATIONS_DIR.is_dir()
    assert (MIGRATIONS_DIR / "__init__.py").exists()  # found by setuptools packages.find
    assert (MIGRATIONS_DIR / "versions" / "__init__.py").exists()
    scripts = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db"))
    assert len(scripts.get_heads()) == 1  # one head: no forked history


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
        ("sqlite+aiosqlite:///rel.db", "sqlite+aiosqlite:///rel.db"),
    ],
)
def test_urls_get_async_drivers(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


async def test_sqlite_parent_directory_is_created(tmp_path: Any) -> None:
    db = Database(f"sqlite:///{tmp_path}/deep/er/nexus.db")
    try:
        await db.migrate()
        await db.ping()
    finally:
        await db.dispose()
    assert (tmp_path / "deep" / "er" / "nexus.db").exists()


_MIGRATE = """
import asyncio, sys
from core.storage.db import Database

async def main() -> None:
    db = Database(sys.argv[1])
    try:
        await db.migrate()
    finally:
        await db.dispose()

asyncio.run(main())
"""


async def test_processes_starting_together_all_migrate(database_url: str) -> None:
    """Web and worker processes call migrate() at the same moment on a fresh database."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _MIGRATE, database_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = [(await p.wait(), (await p.stderr.read()).decode()) for p in procs if p.stderr]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await db.dispose()


async def test_migrations_in_one_process_do_not_interleave(database_url: str) -> None:
    dbs = [Database(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(db.migrate() for db in dbs))
        async with dbs[0].engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        for db in dbs:
            await db.dispose()
