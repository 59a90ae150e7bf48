"""Operator actions from a shell (``nexus admin``): workspaces, roles, quotas, usage.

The only place that reads across workspaces (listing them); everything else goes
through the workspace-scoped repositories and leaves an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Role
from core.errors import InputError
from core.quotas import QuotaPolicy
from core.storage.models import Member, Workspace
from core.storage.repositories import audit, members, usage, workspaces

OPERATOR = "operator:cli"
"""The actor of audit entries written by ``nexus admin``."""


@dataclass(frozen=True)
class WorkspaceSummary:
    id: str
    platform: str
    name: str | None
    created_at: datetime
    members: int
    settings: dict[str, Any]


async def list_workspaces(session: AsyncSession) -> list[WorkspaceSummary]:
    counts = (
        select(Member.workspace_id, func.count().label("n"))
        .group_by(Member.workspace_id)
        .subquery()
    )
    stmt = (
        select(Workspace, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.workspace_id == Workspace.id)
        .order_by(Workspace.created_at, Workspace.id)
    )
    return [
        WorkspaceSummary(w.id, w.platform, w.name, w.created_at, int(n), dict(w.settings))
        for w, n in await session.execute(stmt)
    ]


async def _workspace(session: AsyncSession, workspace_id: str) -> Workspace:
    workspace = await workspaces.get(session, workspace_id)
    if workspace is None:
        raise InputError(
            f"No workspace {workspace_id!r}; `nexus admin workspaces list` shows them."
        )
    return workspace


async def grant_role(
    session: AsyncSession, workspace_id: str, user_id: str, role: Role, *, actor: str = OPERATOR
) -> None:
    await _workspace(session, workspace_id)
    previous = await members.get_role(session, workspace_id, user_id)
    await members.set_role(session, workspace_id, user_id, role)
    await audit.append(
        session,
        workspace_id,
        action="role.set",
        actor_id=actor,
        target=user_id,
        detail={"from": previous.value if previous else None, "to": role.value},
    )


async def set_quotas(
    session: AsyncSession,
    workspace_id: str,
    changes: dict[str, float | None],
    *,
    actor: str = OPERATOR,
) -> QuotaPolicy:
    """Merge quota overrides into the workspace's settings; returns the effective policy
    over the defaults. ``0`` means unlimited; ``None`` removes an override."""
    workspace = await _workspace(session, workspace_id)
    current = dict(workspace.settings.get("quotas") or {})
    for key, value in changes.items():
        if key not in QuotaPolicy.model_fields:
            raise InputError(f"Unknown quota {key!r}.")
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    policy = QuotaPolicy().with_overrides(current)  # validates before saving
    await workspaces.update_settings(session, workspace_id, {"quotas": current})
    await audit.append(
        session, workspace_id, action="quota.set", actor_id=actor, detail={"quotas": current}
    )
    return policy


async def usage_report(
    session: AsyncSession, workspace_id: str, now: datetime | None = None
) -> dict[str, dict[str, float]]:
    """Ledger totals (refunds excluded) for today and this month, UTC."""
    await _workspace(session, workspace_id)
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "today": await usage.totals(session, workspace_id, since=day),
        "month": await usage.totals(session, workspace_id, since=day.replace(day=1)),
    }
