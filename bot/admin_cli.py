"""``nexus admin``: workspaces, roles, quotas, usage, API keys, encryption and retention
from a shell (operator tool)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Column, Table

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

    return _run_plain(lambda: asyncio.run(main()))


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


keys_app = typer.Typer(
    help="Admin API keys (scoped to a workspace and a role).", no_args_is_help=True
)
encryption_app = typer.Typer(help="Encryption at rest.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention of workspace data.", no_args_is_help=True)
admin_app.add_typer(keys_app, name="keys")
admin_app.add_typer(encryption_app, name="encryption")
admin_app.add_typer(retention_app, name="retention")


@keys_app.command("create")
def create_key(
    workspace: Annotated[str, typer.Option(help="The workspace the key may manage")],
    role: Annotated[Role, typer.Option(help="owner, admin, analyst or viewer")] = Role.ADMIN,
    expires: Annotated[str, typer.Option(help="90d, 12h, 30m or never")] = "90d",
    name: Annotated[str | None, typer.Option(help="What the key is for")] = None,
    rate_limit: Annotated[
        int | None, typer.Option(min=1, help="Requests per minute (default: the deployment's)")
    ] = None,
) -> None:
    """Create a key for /admin/api/v1; the token is printed once and never stored."""
    from core.admin import OPERATOR
    from core.governance import api_keys

    expires_in = _run_plain(lambda: api_keys.parse_expiry(expires))
    minted = _run(
        lambda s: api_keys.mint(
            s,
            workspace,
            role=role,
            expires_in=expires_in,
            actor=OPERATOR,
            name=name,
            rate_limit_per_minute=rate_limit,
        )
    )
    until = (
        "never" if minted.key.expires_at is None else f"{minted.key.expires_at:%Y-%m-%d %H:%M} UTC"
    )
    console.print(
        f"Key {minted.key.id} ({role.value} in {workspace}, expires {until}):", highlight=False
    )
    # Plain print: the token must be copyable, with no wrapping or markup.
    print(minted.token)
    console.print("Store it now: Nexus keeps only a hash and cannot show it again.")


@keys_app.command("list")
def list_keys(workspace: Annotated[str, typer.Option()]) -> None:
    """Keys of WORKSPACE (ids, roles and dates; never the secrets)."""
    from core.storage.repositories import api_keys

    rows = _run(lambda s: api_keys.list_all(s, workspace))
    # The id is what `revoke` takes: never wrapped, however narrow the terminal.
    table = Table(
        Column("key", no_wrap=True), "role", "name", "created", "expires", "used", "state"
    )
    for row in rows:
        state = "revoked" if row.revoked_at else "live"
        table.add_row(
            row.id,
            row.role,
            row.name or "",
            _when(row.created_at),
            _when(row.expires_at) or "never",
            _when(row.last_used_at),
            state,
        )
    console.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str, workspace: Annotated[str, typer.Option()]) -> None:
    """Revoke KEY_ID at once (audited)."""
    from core.admin import OPERATOR
    from core.governance import api_keys

    _run(lambda s: api_keys.revoke(s, workspace, key_id, actor=OPERATOR))
    console.print(f"Key {key_id} is revoked.", highlight=False)


@encryption_app.command("rotate")
def rotate() -> None:
    """Re-encrypt every blob and platform token under the first NEXUS_ENCRYPTION_KEYS key."""
    from core.blobs import BlobStore
    from core.governance.encryption import secret_box
    from core.governance.rotation import rotate_all
    from core.storage.db import Database

    settings = Settings()
    box = secret_box(settings)
    if box is None:
        console.print("NEXUS_ENCRYPTION_KEYS is not set: nothing to encrypt with.")
        raise typer.Exit(2)

    async def main() -> tuple[int, int]:
        database = Database(settings.resolved_database_url)
        try:
            await database.migrate()
            blobs = BlobStore.for_data_dir(settings.data_dir, box=box)
            report = await rotate_all(database=database, blobs=blobs, box=box)
        finally:
            await database.dispose()
        return report.blobs, report.installations

    blobs, installs = _run_plain(lambda: asyncio.run(main()))
    console.print(f"Re-encrypted {blobs} blobs and {installs} installations.", highlight=False)


@retention_app.command("run")
def run_retention() -> None:
    """Delete now what each workspace's retention no longer keeps (the hourly job's work)."""
    from core.governance.retention import build_sweeper
    from core.storage.db import Database

    settings = Settings()

    async def main() -> dict[str, dict[str, int]]:
        database = Database(settings.resolved_database_url)
        try:
            await database.migrate()
            return await build_sweeper(settings, database, index=None).sweep()
        finally:
            await database.dispose()

    report = _run_plain(lambda: asyncio.run(main()))
    kinds = ("uploads", "datasets", "documents", "threads", "results")
    table = Table("workspace", *kinds)
    for workspace, counts in report.items():
        table.add_row(workspace, *(str(counts[kind]) for kind in kinds))
    console.print(table if report else "Nothing had expired.")


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _run_plain(action: Callable[[], T]) -> T:
    """``action`` with Nexus errors printed as in :func:`_run`."""
    try:
        return action()
    except UserFacingError as exc:
        console.print(exc.user_message, highlight=False)
        raise typer.Exit(2) from None
    except NexusError as exc:
        console.print(f"Failed: {exc}", highlight=False)
        raise typer.Exit(1) from None
