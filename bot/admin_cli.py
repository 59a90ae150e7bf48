"""``nexus admin``: workspaces, roles, quotas and usage from a shell (operator tool)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from core.access import Role
from core.errors import NexusError, UserFacingError
from core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# The storage stack (SQLAlchemy, Alembic, redis) is imported inside the commands:
# every `nexus` invocation builds this sub-app, and `nexus ask` must not pay for it.

T = TypeVar("T")

admin_app = typer.Typer(help="Workspaces, roles, quotas and usage.", no_args_is_help=True)
workspaces_app = typer.Typer(help="Workspaces Nexus has seen.", no_args_is_help=True)
roles_app = typer.Typer(help="Members and their roles.", no_args_is_help=True)
quotas_app = typer.Typer(help="Per-workspace limits.", no_args_is_help=True)
admin_app.add_typer(workspaces_app, name="workspaces")
admin_app.add_typer(roles_app, name="roles")
admin_app.add_typer(quotas_app, name="quotas")

console = Console()


def _run(action: Callable[[AsyncSession], Awaitable[T]], *, changes: str | None = None) -> T:
    """Run ``action`` in a transaction; ``changes``: the workspace whose roles or quotas
    it changed, so running web processes drop their cached members at once."""

    async def main() -> T:
        from redis.asyncio import Redis

        from core.member_cache import bump_members_version
        from core.storage.db import Database

        settings = Settings()
        database = Database(settings.resolved_database_url)
        try:
            await database.migrate()
            async with database.session() as session:
                result = await action(session)
        finally:
            await database.dispose()
        if changes is not None and settings.redis_url:
            redis = Redis.from_url(settings.redis_url)
            try:
                await bump_members_version(redis, settings.redis_prefix, changes)
            finally:
                await redis.aclose()  # type: ignore[attr-defined]
        return result

    try:
        return asyncio.run(main())
    except UserFacingError as exc:
        console.print(exc.user_message, highlight=False)
        raise typer.Exit(2) from None
    except NexusError as exc:
        console.print(f"Failed: {exc}", highlight=False)
        raise typer.Exit(1) from None


@workspaces_app.command("list")
def list_workspaces() -> None:
    """Every workspace with its member count and settings."""
    from core import admin

    rows = _run(admin.list_workspaces)
    table = Table("workspace", "platform", "members", "created (UTC)", "settings")
    for row in rows:
        created = f"{row.created_at:%Y-%m-%d %H:%M}"
        table.add_row(row.id, row.platform, str(row.members), created, str(row.settings or ""))
    console.print(table)


@roles_app.command("grant")
def grant(
    workspace: str,
    user: str,
    role: Annotated[Role, typer.Argument(help="owner, admin, analyst or viewer")],
) -> None:
    """Give USER the ROLE in WORKSPACE (``slack:T123``); audited as the operator."""
    from core import admin

    _run(lambda s: admin.grant_role(s, workspace, user, role), changes=workspace)
    console.print(f"{user} is now {role.value} in {workspace}.", highlight=False)


@roles_app.command("list")
def list_roles(workspace: str) -> None:
    """Members of WORKSPACE and their roles."""
    from core.storage.repositories import members

    rows = _run(lambda s: members.list_all(s, workspace))
    table = Table("user", "role", "since (UTC)")
    for row in rows:
        table.add_row(row.user_id, row.role, f"{row.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


_Limit = Annotated[float | None, typer.Option(min=0, help="0 = unlimited")]


@quotas_app.command("set")
def set_quotas(
    workspace: str,
    analyses_per_day: Annotated[int | None, typer.Option(min=0, help="0 = unlimited")] = None,
    tokens_per_day: Annotated[int | None, typer.Option(min=0)] = None,
    tokens_per_month: Annotated[int | None, typer.Option(min=0)] = None,
    cost_usd_per_day: _Limit = None,
    cost_usd_per_month: _Limit = None,
    upload_bytes_per_day: Annotated[int | None, typer.Option(min=0)] = None,
    sandbox_seconds_per_day: Annotated[int | None, typer.Option(min=0)] = None,
    requests_per_user_per_minute: Annotated[int | None, typer.Option(min=0)] = None,
) -> None:
    """Override limits of WORKSPACE (options not given stay as they are)."""
    given = {k: v for k, v in locals().items() if k != "workspace" and v is not None}
    if not given:
        console.print("Give at least one limit, e.g. --analyses-per-day 50.")
        raise typer.Exit(2)
    from core import admin

    policy = _run(lambda s: admin.set_quotas(s, workspace, given), changes=workspace)
    table = Table("limit", "value")
    for name, value in policy.model_dump().items():
        table.add_row(name, "unlimited" if value is None else f"{value:,}")
    console.print(table)


@admin_app.command("usage")
def show_usage(workspace: str) -> None:
    """What WORKSPACE used today and this month (from the usage ledger, refunds excluded)."""
    from core import admin

    report = _run(lambda s: admin.usage_report(s, workspace))
    table = Table("kind", "today", "this month")
    for kind in report["today"]:
        table.add_row(kind, f"{report['today'][kind]:,.2f}", f"{report['month'][kind]:,.2f}")
    console.print(table)
