"""Uploaded text documents, the catalogue of the chunks kept in Milvus.

Scoped like datasets: a document belongs to the (workspace, channel, thread) it was
uploaded in. One row per (scope, content hash): :func:`add` of the same bytes into
the same scope returns the existing row, race-free (``INSERT … ON CONFLICT``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Document, utcnow
from core.storage.repositories._sql import insert_ignore, present, thread_key

_SCOPE_KEY = ("workspace_id", "channel_id", "thread_id", "content_hash")


async def add(
    session: AsyncSession,
    workspace_id: str,
    *,
    channel_id: str,
    thread_id: str | None,
    file_name: str,
    content_hash: str,
    size_bytes: int,
    mime: str | None = None,
    pages: int | None = None,
    chunk_count: int = 0,
    uploaded_by: str | None = None,
) -> tuple[Document, bool]:
    """The scope's document with this content, and whether this call created it."""
    values = {
        "id": uuid.uuid4().hex,
        "workspace_id": workspace_id,
        "channel_id": channel_id,
        "thread_id": thread_key(thread_id),
        "file_name": file_name,
        "content_hash": content_hash,
        "size_bytes": size_bytes,
        "mime": mime,
        "pages": pages,
        "chunk_count": chunk_count,
        "uploaded_by": uploaded_by,
        "created_at": utcnow(),
    }
    created = await insert_ignore(session, Document, values, _SCOPE_KEY)
    row = await find(session, workspace_id, channel_id, thread_id, content_hash)
    return present(row, "document"), created


async def find(
    session: AsyncSession,
    workspace_id: str,
    channel_id: str,
    thread_id: str | None,
    content_hash: str,
) -> Document | None:
    stmt = select(Document).where(
        Document.workspace_id == workspace_id,
        Document.channel_id == channel_id,
        Document.thread_id == thread_key(thread_id),
        Document.content_hash == content_hash,
    )
    return (await session.execute(stmt)).scalar()


async def list_for_scope(
    session: AsyncSession, workspace_id: str, channel_id: str, thread_id: str | None
) -> list[Document]:
    """Documents uploaded in exactly this channel and thread, oldest first."""
    stmt = (
        select(Document)
        .where(
            Document.workspace_id == workspace_id,
            Document.channel_id == channel_id,
            Document.thread_id == thread_key(thread_id),
        )
        .order_by(Document.created_at, Document.id)
    )
    return list((await session.execute(stmt)).scalars())


async def forget_scope(
    session: AsyncSession, workspace_id: str, channel_id: str, thread_id: str | None
) -> list[Document]:
    """Delete this scope's documents and return them, so their chunks can be removed.

    A hard delete (documents hold no audit-worthy state; the caller writes the audit
    entry): retrieval only returns chunks of catalogued documents, so they stop being
    cited the moment this commits, whatever the vector store does next.
    """
    gone = await list_for_scope(session, workspace_id, channel_id, thread_id)
    if gone:
        await session.execute(
            delete(Document).where(
                Document.workspace_id == workspace_id,
                Document.id.in_([row.id for row in gone]),
            )
        )
        await session.flush()
    return gone
