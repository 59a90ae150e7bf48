"""`nexus admin`: list workspaces, grant roles, set quotas, show usage — on a real
SQLite database, through the real CLI (typer's runner, in-process)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import structlog
from typer.testing import CliRunner

from bot.cli import app
from core.access import Role
from core.member_cache import members_version_key
from core.quotas import QuotaPolicy
from core.storage.db import Database
from core.storage.repositories import audit, members, usage, workspaces


async def _seed(url: str) -> None:
    database = Database(url)
    await database.migrate()
    async with database.session() as session:
        await workspaces.get_or_create(session, "slack:T1", platform="slack")
        await workspaces.get_or_create(session, "discord:G1", platform="discord")
        await members.set_role(session, "slack:T1", "U1", Role.ANALYST)
        await usage.record(session, "slack:T1", kind="analysis", amount=3, user_id="U1")
    await database.dispose()


async def _state(url: str) -> tuple[Role | None, dict[str, object], list[str]]:
    database = Database(url)
    async with database.session() as session:
        role = await members.get_role(session, "slack:T1", "U1")
        workspace = await workspaces.get(session, "slack:T1")
        actions = [e.action for e in await audit.recent(session, "slack:T1")]
    await database.dispose()
    assert workspace is not None
    return role, workspace.settings, actions


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures logging onto pytest's captured stderr; undo it afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_admin_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("NEXUS_REDIS_PREFIX", redis_prefix)
    monkeypatch.setenv("COLUMNS", "200")
    asyncio.run(_seed(url))
    runner = CliRunner()

    listed = runner.invoke(app, ["admin", "workspaces", "list"])
    assert listed.exit_code == 0, listed.output
    assert "slack:T1" in listed.output and "discord:G1" in listed.output

    granted = runner.invoke(app, ["admin", "roles", "grant", "slack:T1", "U1", "admin"])
    assert granted.exit_code == 0 and "U1 is now admin in slack:T1." in granted.output
    missing = runner.invoke(app, ["admin", "roles", "grant", "slack:NOPE", "U1", "admin"])
    assert missing.exit_code == 2 and "No workspace 'slack:NOPE'" in missing.output

    quotas = runner.invoke(
        app, ["admin", "quotas", "set", "slack:T1", "--analyses-per-day", "50",
              "--requests-per-user-per-minute", "0"],
    )  # fmt: skip
    assert quotas.exit_code == 0, quotas.output
    assert "analyses_per_day" in quotas.output and "unlimited" in quotas.output

    shown = runner.invoke(app, ["admin", "usage", "slack:T1"])
    assert shown.exit_code == 0 and "analysis" in shown.output and "3.00" in shown.output

    # Both changes told running web processes to drop their cached members.
    version_key = members_version_key(redis_prefix, "slack:T1")
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.get(version_key) == b"2"
    finally:
        client.delete(version_key)
        client.close()

    role, settings, actions = asyncio.run(_state(url))
    assert role is Role.ADMIN
    policy = QuotaPolicy().with_overrides(settings["quotas"])  # type: ignore[arg-type]
    assert policy.analyses_per_day == 50 and policy.requests_per_user_per_minute is None
    assert actions == ["quota.set", "role.set"]
