"""Uploaded files, each visible only in the scope (workspace, channel, thread) it came in."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.datasets.models import DatasetProfile
from core.storage.models import Dataset, utcnow
from core.storage.repositories._sql import thread_key


async def add(
    session: AsyncSession,
    workspace_id: str,
    *,
    channel_id: str,
    thread_id: str | None,
    name: str,
    file_name: str,
    content_hash: str,
    blob_key: str,
    size_bytes: int = 0,
    mime: str | None = None,
    uploaded_by: str | None = None,
    profile: DatasetProfile | None = None,
) -> Dataset:
    if not blob_key.startswith(f"{workspace_id}/"):
        # A blob of another workspace would leak through this row.
        raise ValueError("blob_key must belong to the dataset's workspace")
    dataset = Dataset(
        id=uuid.uuid4().hex,
        workspace_id=workspace_id,
        channel_id=channel_id,
        thread_id=thread_key(thread_id),
        name=name,
        file_name=file_name,
        content_hash=content_hash,
        blob_key=blob_key,
        size_bytes=size_bytes,
        mime=mime,
        uploaded_by=uploaded_by,
        profile=None if profile is None else profile.model_dump(mode="json"),
        created_at=utcnow(),
    )
    session.add(dataset)
    await session.flush()
    return dataset


def profile_of(dataset: Dataset) -> DatasetProfile | None:
    """The stored profile as the pydantic model planners use."""
    return None if dataset.profile is None else DatasetProfile.model_validate(dataset.profile)


async def get(session: AsyncSession, workspace_id: str, dataset_id: str) -> Dataset | None:
    """One live dataset of this workspace (None if absent, forgotten or elsewhere)."""
    stmt = select(Dataset).where(
        Dataset.workspace_id == workspace_id,
        Dataset.id == dataset_id,
        Dataset.deleted_at.is_(None),
    )
    return (await session.execute(stmt)).scalar()


async def list_for_scope(
    session: AsyncSession, workspace_id: str, channel_id: str, thread_id: str | None
) -> list[Dataset]:
    """Live datasets uploaded in exactly this channel and thread, oldest first."""
    stmt = (
        select(Dataset)
        .where(
            Dataset.workspace_id == workspace_id,
            Dataset.channel_id == channel_id,
            Dataset.thread_id == thread_key(thread_id),
            Dataset.deleted_at.is_(None),
        )
        .order_by(Dataset.created_at, Dataset.id)
    )
    return list((await session.execute(stmt)).scalars())


async def forget_scope(
    session: AsyncSession, workspace_id: str, channel_id: str, thread_id: str | None
) -> list[Dataset]:
    """Mark this scope's datasets deleted and return them, so the caller removes blobs.

    Soft delete: the row stays for the audit trail; nothing reads it again.
    """
    forgotten = await list_for_scope(session, workspace_id, channel_id, thread_id)
    now = utcnow()
    for dataset in forgotten:
        dataset.deleted_at = now
    await session.flush()
    return forgotten
