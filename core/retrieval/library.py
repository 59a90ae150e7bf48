"""The worker's door to documents: ingest an upload, answer a question, forget a scope.

The database row (core/storage/repositories/documents.py) is the catalogue and the
truth: a search only returns chunks of catalogued documents of the asker's scope, so
a forgotten document stops being cited when its row goes, and its chunks are purged
from Milvus the next time the scope is touched (or at once, by :meth:`forget`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from core.agents.calls import LLMSession
from core.documents.chunking import chunk_blocks
from core.documents.models import Chunk, DocumentKind, ExtractedDocument
from core.documents.reading import read_document
from core.errors import ConfigurationError, StorageError
from core.governance.milvus_index import ChunkStoreIndex
from core.logging import get_logger
from core.retrieval.citing import CitedAnswer, answer_from_passages
from core.retrieval.embedders import Embedder, build_embedder
from core.retrieval.scopes import Scope, literal, scope_filter, visible_scopes
from core.retrieval.search import DocumentSearch, SearchResult
from core.retrieval.store import ChunkRow, ChunkStore, collection_name
from core.settings import DocumentLimits, Settings
from core.storage.db import Database
from core.storage.models import Document
from core.storage.repositories import documents

log = get_logger("retrieval.library")

BeforeStore = Callable[[int], Awaitable[None]]
"""Called with the upload's size when its content is new here (the upload quota)."""


@dataclass(frozen=True)
class IngestedDocument:
    document_id: str
    file_name: str
    kind: DocumentKind
    pages: int | None
    chunks: int
    created: bool
    """False when the same bytes were already uploaded in this scope."""


@dataclass(frozen=True)
class DocumentAnswer:
    answer: CitedAnswer
    search: SearchResult
    documents: list[str]
    """File names of the documents the asker could see."""


class DocumentLibrary:
    def __init__(
        self,
        *,
        database: Database,
        store: ChunkStore,
        embedder: Embedder | None,
        limits: DocumentLimits,
    ) -> None:
        self._db = database
        self._store = store
        self._embedder = embedder
        self._limits = limits
        self.search = DocumentSearch(store, embedder)

    @classmethod
    async def open(cls, settings: Settings, database: Database) -> DocumentLibrary:
        embedder = build_embedder(settings)
        name = collection_name(
            settings.milvus_collection, None if embedder is None else embedder.name
        )
        dimension = None if embedder is None else embedder.dimension
        store = await ChunkStore.open(settings.resolved_milvus_uri, name, dimension=dimension)
        log.info("documents_ready", collection=name, mode=store_mode(embedder))
        return cls(
            database=database, store=store, embedder=embedder, limits=settings.document_limits
        )

    async def ingest(
        self,
        data: bytes,
        *,
        file_name: str,
        workspace: str,
        channel: str,
        thread: str | None,
        mime: str | None = None,
        uploaded_by: str | None = None,
        before_store: BeforeStore | None = None,
    ) -> IngestedDocument:
        """Extract, chunk and index an upload; the same bytes again add nothing."""
        document, chunks = await asyncio.to_thread(self._prepare, data, file_name)
        digest = hashlib.sha256(data).hexdigest()
        async with self._db.session() as session:
            existing = await documents.find(session, workspace, channel, thread, digest)
        if existing is None and before_store is not None:
            await before_store(len(data))
        async with self._db.session() as session:
            row, created = await documents.add(
                session,
                workspace,
                channel_id=channel,
                thread_id=thread,
                file_name=file_name,
                content_hash=digest,
                size_bytes=len(data),
                mime=mime,
                pages=document.pages,
                chunk_count=len(chunks),
                uploaded_by=uploaded_by,
            )
        scope = Scope.of(channel, thread)
        if created:
            await self._write(row, scope, chunks)
            await self._purge_forgotten(workspace, scope)
        elif await self._store.count(_of_document(workspace, scope, row.id)) < row.chunk_count:
            # A run that crashed half way through writing: write the document again.
            await self._store.delete(_of_document(workspace, scope, row.id))
            await self._write(row, scope, chunks)
        return IngestedDocument(
            row.id, row.file_name, document.kind, row.pages, row.chunk_count, created
        )

    def _prepare(self, data: bytes, file_name: str) -> tuple[ExtractedDocument, list[Chunk]]:
        document = read_document(data, file_name, self._limits)
        return document, chunk_blocks(document.blocks, self._limits, file_name=file_name)

    async def _write(self, row: Document, scope: Scope, chunks: list[Chunk]) -> None:
        uploaded = int(row.created_at.timestamp())
        rows = [
            ChunkRow(
                id=f"{row.id}:{chunk.ordinal}",
                workspace=row.workspace_id,
                channel=scope.channel,
                thread=scope.thread,
                document_id=row.id,
                file_name=row.file_name,
                page=chunk.page,
                section=chunk.section,
                ordinal=chunk.ordinal,
                uploaded_at=uploaded,
                text=chunk.text,
            )
            for chunk in chunks
        ]
        vectors = None
        if self._embedder is not None:
            vectors = await self._embedder.embed([chunk.text for chunk in chunks])
        await self._store.insert(rows, vectors)

    async def catalogue(self, workspace: str, channel: str, thread: str | None) -> list[Document]:
        async with self._db.session() as session:
            return await documents.list_for_scope(session, workspace, channel, thread)

    async def ask(
        self,
        question: str,
        *,
        workspace: str,
        channel: str,
        thread: str | None,
        llm: LLMSession | None = None,
        limit: int = 5,
    ) -> DocumentAnswer:
        """The cited answer to ``question`` from the documents the asker can see."""
        result, rows = await self.find(
            question, workspace=workspace, channel=channel, thread=thread, limit=limit
        )
        answer = await answer_from_passages(question, result.passages, llm=llm)
        return DocumentAnswer(answer, result, [row.file_name for row in rows])

    async def find(
        self, question: str, *, workspace: str, channel: str, thread: str | None, limit: int = 5
    ) -> tuple[SearchResult, list[Document]]:
        """The best passages for ``question`` among the documents the asker can see,
        and those documents' catalogue rows."""
        rows = await self.catalogue(workspace, channel, thread)
        if not rows:
            return SearchResult([], self.search.mode, 0.0), rows
        result = await self.search.search(
            question,
            workspace=workspace,
            scopes=visible_scopes(channel, thread),
            document_ids=[row.id for row in rows],
            limit=limit,
        )
        if result.stale:  # chunks of forgotten documents are still in Milvus: remove them
            await self._purge_forgotten(workspace, Scope.of(channel, thread), rows)
        return result, rows

    async def delete(self, workspace_id: str, document_ids: Sequence[str]) -> None:
        """Remove the chunks of these documents (retention, the admin API's delete)."""
        await ChunkStoreIndex(self._store).delete(workspace_id, document_ids)

    async def forget(self, workspace: str, channel: str, thread: str | None) -> None:
        """Remove the chunks of every document no longer catalogued in this scope."""
        await self._purge_forgotten(workspace, Scope.of(channel, thread))

    async def _purge_forgotten(
        self, workspace: str, scope: Scope, rows: list[Document] | None = None
    ) -> None:
        if rows is None:
            rows = await self.catalogue(workspace, scope.channel, scope.thread or None)
        keep = ", ".join(literal(row.id) for row in rows)
        await self._store.delete(
            f"{scope_filter(workspace, [scope])} and document_id not in [{keep}]"
        )

    async def close(self) -> None:
        await self._store.close()


def store_mode(embedder: Embedder | None) -> str:
    return "bm25" if embedder is None else f"hybrid ({embedder.name})"


def _of_document(workspace: str, scope: Scope, document_id: str) -> str:
    return f"{scope_filter(workspace, [scope])} and document_id == {literal(document_id)}"


async def open_documents(settings: Settings, database: Database) -> DocumentLibrary | None:
    """The worker's library, or None (documents refused as before) when Milvus or the
    embedder cannot be opened: tables still work, and the log says why."""
    try:
        return await DocumentLibrary.open(settings, database)
    except (ConfigurationError, StorageError) as exc:
        log.error("documents_unavailable", error=str(exc))
        return None
