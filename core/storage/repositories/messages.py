"""Thread history: what was asked and answered in one conversation."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Conversation, Message, utcnow
from core.storage.repositories._sql import insert_ignore, thread_key

MessageRole = Literal["user", "assistant"]


async def conversation_id(
    session: AsyncSession, workspace_id: str, channel_id: str, thread_id: str | None
) -> str:
    """The id of this thread's conversation, created on first use (race-free)."""
    scope = {
        "workspace_id": workspace_id,
        "channel_id": channel_id,
        "thread_id": thread_key(thread_id),
    }
    await insert_ignore(
        session,
        Conversation,
        {"id": uuid.uuid4().hex, "created_at": utcnow(), **scope},
        ["workspace_id", "channel_id", "thread_id"],
    )
    stmt = select(Conversation.id).where(
        Conversation.workspace_id == workspace_id,
        Conversation.channel_id == channel_id,
        Conversation.thread_id == thread_key(thread_id),
    )
    return str((await session.execute(stmt)).scalar_one())


async def append(
    session: AsyncSession,
    workspace_id: str,
    *,
    channel_id: str,
    thread_id: str | None,
    role: MessageRole,
    text: str,
    actor_id: str | None = None,
    spec: dict[str, Any] | None = None,
    job_id: str | None = None,
) -> Message:
    """Add one turn. With a ``job_id``, a second append of the same role for the same
    job returns the first message: a job that runs twice records its answer once."""
    conv = await conversation_id(session, workspace_id, channel_id, thread_id)
    if job_id is not None:
        stmt = select(Message).where(
            Message.workspace_id == workspace_id,
            Message.conversation_id == conv,
            Message.job_id == job_id,
            Message.role == role,
        )
        existing = (await session.execute(stmt)).scalar()
        if existing is not None:
            return existing
    message = Message(
        workspace_id=workspace_id,
        conversation_id=conv,
        role=role,
        text=text,
        actor_id=actor_id,
        spec=spec,
        job_id=job_id,
        created_at=utcnow(),
    )
    session.add(message)
    await session.flush()
    return message


async def history(
    session: AsyncSession,
    workspace_id: str,
    channel_id: str,
    thread_id: str | None,
    *,
    limit: int = 50,
) -> list[Message]:
    """The last ``limit`` turns of this thread, oldest first."""
    stmt = (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.workspace_id == workspace_id,
            Conversation.workspace_id == workspace_id,
            Conversation.channel_id == channel_id,
            Conversation.thread_id == thread_key(thread_id),
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(stmt)).scalars().all()))
