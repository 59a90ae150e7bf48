"""API keys at rest and from the shell: hashed, shown once, scoped, expiring, revocable."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

import pytest
from governance.governance_support import add_workspace, key_id, open_database
from sqlalchemy import text
from typer.testing import CliRunner

from bot.cli import app
from core.access import Role
from core.errors import InputError
from core.governance import api_keys
from core.storage.db import Database
from core.storage.models import ApiKey
from core.storage.repositories import api_keys as key_rows


async def _new_workspace(url: str) -> str:
    database = await open_database(url)
    try:
        return await add_workspace(database)
    finally:
        await database.dispose()


async def _keys(url: str, workspace: str) -> list[ApiKey]:
    database = await open_database(url)
    try:
        async with database.session() as session:
            return await key_rows.list_all(session, workspace)
    finally:
        await database.dispose()


async def test_only_a_hash_of_the_secret_is_stored(any_database: Database) -> None:
    workspace = await add_workspace(any_database)
    async with any_database.session() as session:
        minted = await api_keys.mint(
            session, workspace, role=Role.ADMIN, expires_in=timedelta(days=90), actor="t"
        )
    secret = minted.token.split("_", 2)[2]
    async with any_database.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM api_keys"))).all()
    dumped = repr(rows)
    assert secret not in dumped and minted.token not in dumped
    assert key_id(minted.token) in dumped  # the id is the lookup prefix
    async with any_database.session() as session:
        key = await api_keys.authenticate(session, f"Bearer {minted.token}")
    assert (key.workspace_id, key.role) == (workspace, "admin")
    assert key.expires_at is not None
    assert timedelta(days=89) < key.expires_at - key.created_at <= timedelta(days=90)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("30m", timedelta(minutes=30)),
     ("never", None), ("0", None)],
)  # fmt: skip
def test_expiry_durations(given: str, expected: timedelta | None) -> None:
    assert api_keys.parse_expiry(given) == expected


@pytest.mark.parametrize("given", ["90", "d", "-1d", "0d", "3w", ""])
def test_bad_expiry_is_refused(given: str) -> None:
    with pytest.raises(InputError):
        api_keys.parse_expiry(given)


async def test_a_key_needs_an_existing_workspace(database: Database) -> None:
    async with database.session() as session:
        with pytest.raises(InputError, match="No workspace"):
            await api_keys.mint(
                session, "test:nowhere", role=Role.ADMIN, expires_in=None, actor="t"
            )


@pytest.mark.usefixtures("cli_logging")
def test_cli_creates_lists_and_revokes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    workspace = asyncio.run(_new_workspace(url))
    runner = CliRunner()

    created = runner.invoke(
        app, ["admin", "keys", "create", "--workspace", workspace, "--role", "admin",
              "--expires", "90d", "--name", "ci"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    token = re.search(r"nxk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", created.output)
    assert token is not None
    listed = runner.invoke(app, ["admin", "keys", "list", "--workspace", workspace])
    assert key_id(token.group(0)) in listed.output and "live" in listed.output
    assert token.group(0) not in listed.output  # never shown again
    revoked = runner.invoke(
        app, ["admin", "keys", "revoke", key_id(token.group(0)), "--workspace", workspace]
    )
    assert revoked.exit_code == 0, revoked.output
    again = runner.invoke(
        app, ["admin", "keys", "revoke", key_id(token.group(0)), "--workspace", workspace]
    )
    assert again.exit_code == 2 and "No live key" in again.output
    missing = runner.invoke(app, ["admin", "keys", "create", "--workspace", "test:none"])
    assert missing.exit_code == 2 and "No workspace" in missing.output

    rows = asyncio.run(_keys(url, workspace))
    assert [(r.name, r.role, r.revoked_at is not None) for r in rows] == [("ci", "admin", True)]
