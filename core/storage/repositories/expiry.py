"""What retention finds and deletes: rows older than a cutoff, one workspace at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Conversation, Dataset, Document, Job, Message
from core.storage.repositories.jobs import FINISHED


async def datasets_before(
    session: AsyncSession, workspace_id: str, before: datetime, *, with_bytes_only: bool = False
) -> list[Dataset]:
    """Datasets uploaded before ``before``; ``with_bytes_only``: whose file is still kept."""
    stmt = select(Dataset).where(Dataset.workspace_id == workspace_id, Dataset.created_at < before)
    if with_bytes_only:
        stmt = stmt.where(Dataset.deleted_at.is_(None))
    return list((await session.execute(stmt)).scalars())


async def mark_datasets_deleted(
    session: AsyncSession, workspace_id: str, ids: Sequence[str], at: datetime
) -> None:
    """The file bytes are gone: nothing may read these datasets again."""
    if ids:
        stmt = (
            update(Dataset)
            .where(Dataset.workspace_id == workspace_id, Dataset.id.in_(list(ids)))
            .values(deleted_at=at)
        )
        await session.execute(stmt)


async def documents_before(
    session: AsyncSession, workspace_id: str, before: datetime
) -> list[Document]:
    stmt = select(Document).where(
        Document.workspace_id == workspace_id, Document.created_at < before
    )
    return list((await session.execute(stmt)).scalars())


async def delete_by_ids(
    session: AsyncSession,
    model: type[Dataset] | type[Document],
    workspace_id: str,
    ids: Sequence[str],
) -> int:
    if not ids:
        return 0
    stmt = delete(model).where(model.workspace_id == workspace_id, model.id.in_(list(ids)))
    return _count(await session.execute(stmt))


async def delete_history_before(session: AsyncSession, workspace_id: str, before: datetime) -> int:
    """Messages older than ``before``, then conversations left with no messages."""
    removed = _count(
        await session.execute(
            delete(Message).where(Message.workspace_id == workspace_id, Message.created_at < before)
        )
    )
    has_messages = exists().where(Message.conversation_id == Conversation.id)
    await session.execute(
        delete(Conversation).where(
            Conversation.workspace_id == workspace_id,
            Conversation.created_at < before,
            ~has_messages,
        )
    )
    return removed


async def delete_jobs_before(session: AsyncSession, workspace_id: str, before: datetime) -> int:
    """Finished job records (a queued or running job is never expired under it)."""
    stmt = delete(Job).where(
        Job.workspace_id == workspace_id,
        Job.created_at < before,
        Job.status.in_(sorted(FINISHED)),
    )
    return _count(await session.execute(stmt))


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
