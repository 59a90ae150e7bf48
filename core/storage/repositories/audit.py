"""The audit log: every permission-relevant action, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import AuditEntry, utcnow


async def append(
    session: AsyncSession,
    workspace_id: str,
    *,
    action: str,
    actor_id: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record ``action`` (e.g. ``role.set``, ``access.denied``, ``quota.refused``).

    ``detail`` is for ids and settings, never message text or file contents.
    """
    entry = AuditEntry(
        workspace_id=workspace_id,
        actor_id=actor_id,
        action=action,
        target=target,
        detail=detail or {},
        at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def recent(
    session: AsyncSession,
    workspace_id: str,
    *,
    limit: int = 100,
    action: str | None = None,
    since: datetime | None = None,
) -> list[AuditEntry]:
    """Newest first."""
    stmt = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())
