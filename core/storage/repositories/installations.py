"""Platform installations (OAuth results) and stored conversation references.

Both hold credentials or routing data in plain JSON for now; encryption at rest is
planned and will live here, so adapters must read and write only through these
functions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import ConversationReference, Installation, utcnow
from core.storage.repositories._sql import upsert


async def save(
    session: AsyncSession,
    workspace_id: str,
    *,
    platform: str,
    data: dict[str, Any],
    installed_by: str | None = None,
) -> None:
    """Store (or replace, on reinstall) the installation of ``workspace_id``."""
    now = utcnow()
    values = {"platform": platform, "data": data, "installed_by": installed_by, "updated_at": now}
    await upsert(
        session,
        Installation,
        {"workspace_id": workspace_id, "installed_at": now, **values},
        ["workspace_id"],
        values,
    )


async def get(session: AsyncSession, workspace_id: str) -> Installation | None:
    stmt = select(Installation).where(Installation.workspace_id == workspace_id)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar()


async def remove(session: AsyncSession, workspace_id: str) -> bool:
    """Forget the installation (app uninstalled, tokens revoked)."""
    stmt = delete(Installation).where(Installation.workspace_id == workspace_id)
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


async def save_reference(
    session: AsyncSession, workspace_id: str, key: str, *, platform: str, data: dict[str, Any]
) -> None:
    values = {"platform": platform, "data": data, "updated_at": utcnow()}
    await upsert(
        session,
        ConversationReference,
        {"workspace_id": workspace_id, "key": key, **values},
        ["workspace_id", "key"],
        values,
    )


async def get_reference(
    session: AsyncSession, workspace_id: str, key: str
) -> ConversationReference | None:
    stmt = select(ConversationReference).where(
        ConversationReference.workspace_id == workspace_id, ConversationReference.key == key
    )
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar()
