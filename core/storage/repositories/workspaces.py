"""Workspaces and their channel policies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import ChannelPolicy, Workspace, utcnow
from core.storage.repositories._sql import insert_ignore, present, upsert


async def get(session: AsyncSession, workspace_id: str) -> Workspace | None:
    stmt = select(Workspace).where(Workspace.id == workspace_id)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar()


async def get_or_create(
    session: AsyncSession,
    workspace_id: str,
    *,
    platform: str,
    name: str | None = None,
    settings: dict[str, Any] | None = None,
) -> tuple[Workspace, bool]:
    """The workspace, provisioned on first contact; True when this call created it.

    The caller bootstraps owners when it sees True, so exactly one process does.
    """
    created = await insert_ignore(
        session,
        Workspace,
        {
            "id": workspace_id,
            "platform": platform,
            "name": name,
            "settings": settings or {},
            "created_at": utcnow(),
        },
        ["id"],
    )
    return present(await get(session, workspace_id), "workspace"), created


async def update_settings(
    session: AsyncSession, workspace_id: str, changes: dict[str, Any]
) -> Workspace | None:
    """Merge ``changes`` into the workspace's settings (``None`` values remove keys)."""
    workspace = await get(session, workspace_id)
    if workspace is None:
        return None
    merged = {**workspace.settings, **changes}
    # A new dict object, so SQLAlchemy notices the change to the JSON column.
    workspace.settings = {key: value for key, value in merged.items() if value is not None}
    await session.flush()
    return workspace


async def get_channel_policy(
    session: AsyncSession, workspace_id: str, channel_id: str
) -> ChannelPolicy | None:
    stmt = select(ChannelPolicy).where(
        ChannelPolicy.workspace_id == workspace_id, ChannelPolicy.channel_id == channel_id
    )
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar()


async def set_channel_policy(
    session: AsyncSession,
    workspace_id: str,
    channel_id: str,
    *,
    enabled: bool = True,
    settings: dict[str, Any] | None = None,
) -> ChannelPolicy:
    now = utcnow()
    values = {"enabled": enabled, "settings": settings or {}, "updated_at": now}
    await upsert(
        session,
        ChannelPolicy,
        {"workspace_id": workspace_id, "channel_id": channel_id, **values},
        ["workspace_id", "channel_id"],
        values,
    )
    return present(await get_channel_policy(session, workspace_id, channel_id), "policy")
