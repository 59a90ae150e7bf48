"""Who belongs to a workspace and with which role."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Role
from core.storage.models import Member, utcnow
from core.storage.repositories._sql import insert_ignore, present, upsert


async def get_role(session: AsyncSession, workspace_id: str, user_id: str) -> Role | None:
    """The user's role, or None if they have never been seen in this workspace."""
    stmt = select(Member.role).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    role = (await session.execute(stmt)).scalar()
    return None if role is None else Role(role)


async def set_role(session: AsyncSession, workspace_id: str, user_id: str, role: Role) -> None:
    """Give ``user_id`` the role ``role`` (adding them if new). Permission checks are
    the caller's job (:func:`core.access.can_assign`)."""
    now = utcnow()
    await upsert(
        session,
        Member,
        {
            "workspace_id": workspace_id,
            "user_id": user_id,
            "role": Role(role).value,
            "created_at": now,
            "updated_at": now,
        },
        ["workspace_id", "user_id"],
        {"role": Role(role).value, "updated_at": now},
    )


async def ensure(
    session: AsyncSession, workspace_id: str, user_id: str, default_role: Role
) -> tuple[Role, bool]:
    """The member's role, adding them with ``default_role`` on first contact.

    Returns ``(role, created)``; concurrent first messages add the member once.
    """
    now = utcnow()
    created = await insert_ignore(
        session,
        Member,
        {
            "workspace_id": workspace_id,
            "user_id": user_id,
            "role": Role(default_role).value,
            "created_at": now,
            "updated_at": now,
        },
        ["workspace_id", "user_id"],
    )
    role = present(await get_role(session, workspace_id, user_id), "member")
    return role, created


async def remove(session: AsyncSession, workspace_id: str, user_id: str) -> bool:
    stmt = delete(Member).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def list_all(session: AsyncSession, workspace_id: str) -> list[Member]:
    stmt = (
        select(Member)
        .where(Member.workspace_id == workspace_id)
        .order_by(Member.created_at, Member.user_id)
    )
    return list((await session.execute(stmt)).scalars())


async def count_with_role(session: AsyncSession, workspace_id: str, role: Role) -> int:
    """How many members hold ``role`` (e.g. refuse to remove the last owner)."""
    stmt = select(func.count()).where(
        Member.workspace_id == workspace_id, Member.role == Role(role).value
    )
    return int((await session.execute(stmt)).scalar_one())
