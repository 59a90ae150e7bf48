"""Admin API keys: hashed secrets scoped to one workspace and one role.

:func:`find` looks a key up by its id alone: authentication must learn *which*
workspace a key belongs to before it can check anything else. Every other function
is workspace-scoped like the rest of the repositories.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import ApiKey, utcnow


async def add(
    session: AsyncSession,
    workspace_id: str,
    *,
    key_id: str,
    role: str,
    secret_sha256: str,
    name: str | None = None,
    expires_at: datetime | None = None,
    rate_limit_per_minute: int | None = None,
    created_by: str | None = None,
) -> ApiKey:
    key = ApiKey(
        id=key_id,
        workspace_id=workspace_id,
        role=role,
        name=name,
        secret_sha256=secret_sha256,
        expires_at=expires_at,
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(key)
    await session.flush()
    return key


async def find(session: AsyncSession, key_id: str) -> ApiKey | None:
    """The key with this id, whatever its workspace (authentication only)."""
    stmt = select(ApiKey).where(ApiKey.id == key_id)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar()


async def get(session: AsyncSession, workspace_id: str, key_id: str) -> ApiKey | None:
    stmt = select(ApiKey).where(ApiKey.workspace_id == workspace_id, ApiKey.id == key_id)
    return (await session.execute(stmt)).scalar()


async def list_all(session: AsyncSession, workspace_id: str) -> list[ApiKey]:
    """Newest first, revoked and expired included (the audit trail of keys)."""
    stmt = (
        select(ApiKey)
        .where(ApiKey.workspace_id == workspace_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id)
    )
    return list((await session.execute(stmt)).scalars())


async def revoke(session: AsyncSession, workspace_id: str, key_id: str) -> bool:
    """Revoke a live key; False if there is no such key or it was already revoked."""
    stmt = (
        update(ApiKey)
        .where(
            ApiKey.workspace_id == workspace_id,
            ApiKey.id == key_id,
            ApiKey.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


async def touch(session: AsyncSession, workspace_id: str, key_id: str, at: datetime) -> None:
    """Record the key's last use."""
    stmt = (
        update(ApiKey)
        .where(ApiKey.workspace_id == workspace_id, ApiKey.id == key_id)
        .values(last_used_at=at)
    )
    await session.execute(stmt)
