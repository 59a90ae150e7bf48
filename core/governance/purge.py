"""Deleting datasets and documents from every store that holds them.

Shared by retention (expired data) and the admin API (deletion on request). Order is
outside-in: blobs and vector chunks first, database rows last, so a failure part way
leaves the row in place and the next attempt finds and finishes the job, instead of
orphaning bytes or chunks nothing points to any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from core.blobs import BlobStore
from core.storage.db import Database
from core.storage.models import Dataset, Document
from core.storage.repositories import expiry


@runtime_checkable
class DocumentIndex(Protocol):
    """The vector store's side of deletion (Milvus, ``core/retrieval``)."""

    async def delete(self, workspace_id: str, document_ids: Sequence[str]) -> None: ...


class Purger:
    def __init__(self, *, database: Database, blobs: BlobStore, index: DocumentIndex | None):
        self._db = database
        self._blobs = blobs
        self._index = index

    async def dataset_bytes(
        self, workspace_id: str, datasets: Sequence[Dataset], at: datetime
    ) -> int:
        """Remove the files behind ``datasets``; the rows stay, marked deleted."""
        for dataset in datasets:
            await self._blobs.delete(dataset.blob_key)
        async with self._db.session() as session:
            await expiry.mark_datasets_deleted(session, workspace_id, [d.id for d in datasets], at)
        return len(datasets)

    async def datasets(self, workspace_id: str, datasets: Sequence[Dataset]) -> int:
        """Remove ``datasets`` entirely: their files, then their rows."""
        for dataset in datasets:
            await self._blobs.delete(dataset.blob_key)
        async with self._db.session() as session:
            ids = [d.id for d in datasets]
            return await expiry.delete_by_ids(session, Dataset, workspace_id, ids)

    async def documents(self, workspace_id: str, document_ids: Sequence[str]) -> int:
        """Remove documents: their chunks in the index, any blobs, then their rows."""
        if not document_ids:
            return 0
        if self._index is not None:
            await self._index.delete(workspace_id, list(document_ids))
        prefixes = tuple(f"{workspace_id}/documents/{doc_id}" for doc_id in document_ids)
        for key in await self._blobs.list_keys(workspace_id):
            if key.startswith(prefixes):
                await self._blobs.delete(key)
        async with self._db.session() as session:
            return await expiry.delete_by_ids(session, Document, workspace_id, document_ids)
