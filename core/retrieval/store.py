"""The Milvus collection of document chunks, through pymilvus's ``MilvusClient``.

One URI serves both modes: a file path opens milvus-lite in this process (``nexus dev``;
one process per data directory), ``http://host:19530`` talks to a Milvus server (or a
``milvus-lite server`` process) shared by every worker.

The schema is explicit — filtering on dynamic fields is ~80× slower (facts.md):
``workspace`` is the partition key; ``channel``/``thread`` the scope; ``text`` is
what is quoted and ``terms`` its stemmed words (core/retrieval/terms.py), from which a
BM25 function fills ``sparse`` inside Milvus, so full-text search needs no model;
``dense`` exists only when an embedder is configured, and the collection's name
carries the embedder so vectors of two models never mix.

pymilvus's client is synchronous: every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient, MilvusException

from core.errors import ConfigurationError, StorageError
from core.logging import get_logger
from core.retrieval.fusion import Hit
from core.retrieval.terms import search_terms

log = get_logger("retrieval.store")

TEXT_BYTES = 16_000
ANALYZER = {"tokenizer": "standard"}
"""``terms`` arrive stemmed and stop-worded (core/retrieval/terms.py): split on spaces."""
FIELDS = ("document_id", "file_name", "page", "section", "ordinal", "uploaded_at", "text")


@dataclass(frozen=True)
class ChunkRow:
    """One chunk as stored: where it belongs, where it comes from, and its text."""

    id: str
    workspace: str
    channel: str
    thread: str
    document_id: str
    file_name: str
    page: int | None
    section: str | None
    ordinal: int
    uploaded_at: int
    """Unix seconds."""
    text: str


def collection_name(base: str, embedder_name: str | None) -> str:
    if embedder_name is None:
        return base
    return f"{base}__{re.sub(r'[^0-9A-Za-z]+', '_', embedder_name)}"


def is_local_file(uri: str) -> bool:
    """Whether ``uri`` names a milvus-lite file (pymilvus's own rule: it ends in .db)."""
    return uri.endswith(".db")


class ChunkStore:
    def __init__(
        self,
        client: MilvusClient,
        collection: str,
        *,
        dimension: int | None,
        local_file: str | None = None,
    ) -> None:
        self._client = client
        self.collection = collection
        self.dimension = dimension
        self._local_file = local_file
        """The milvus-lite file this process serves, released on :meth:`close`."""

    @classmethod
    async def open(cls, uri: str, collection: str, *, dimension: int | None) -> ChunkStore:
        """Connect, create the collection if it is missing, and load it."""

        local_file = uri if is_local_file(uri) else None

        def connect() -> MilvusClient:
            if local_file:  # a fresh data dir: milvus-lite won't create it
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            try:
                return MilvusClient(uri=uri)
            except Exception as exc:  # pymilvus's errors, milvus-lite's DataDirLockedError
                raise ConfigurationError(
                    f"Cannot open Milvus at {uri}: {exc}. A milvus-lite file can be opened "
                    "by one process only; several workers need MILVUS_URI=http://host:19530."
                ) from exc

        client = await asyncio.to_thread(connect)
        store = cls(client, collection, dimension=dimension, local_file=local_file)
        try:
            await asyncio.to_thread(store._ensure)
        except MilvusException as exc:
            await store.close()
            raise StorageError(f"milvus collection {collection} unusable: {exc}") from exc
        return store

    def _ensure(self) -> None:
        client = self._client
        if not client.has_collection(self.collection):
            schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=200)
            schema.add_field("workspace", DataType.VARCHAR, max_length=200, is_partition_key=True)
            schema.add_field("channel", DataType.VARCHAR, max_length=200)
            schema.add_field("thread", DataType.VARCHAR, max_length=200)
            schema.add_field("document_id", DataType.VARCHAR, max_length=64)
            schema.add_field("file_name", DataType.VARCHAR, max_length=300)
            schema.add_field("page", DataType.INT32)
            schema.add_field("section", DataType.VARCHAR, max_length=500)
            schema.add_field("ordinal", DataType.INT32)
            schema.add_field("uploaded_at", DataType.INT64)
            schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES)
            schema.add_field(
                "terms",
                DataType.VARCHAR,
                max_length=TEXT_BYTES,
                enable_analyzer=True,
                analyzer_params=ANALYZER,
            )
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="terms_bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=["terms"],
                    output_field_names=["sparse"],
                )
            )
            index = client.prepare_index_params()
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
            if self.dimension is not None:
                schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dimension)
                index.add_index("dense", index_type="AUTOINDEX", metric_type="COSINE")
            client.create_collection(self.collection, schema=schema)
            # sync=False: pymilvus's wait for the index asks for a timestamp milvus-lite
            # does not implement (an error logged per collection); loading waits anyway.
            client.create_index(self.collection, index, sync=False)
            log.info("milvus_collection_created", collection=self.collection)
        client.load_collection(self.collection)

    async def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(getattr(self._client, method), self.collection, **kwargs)
        except MilvusException as exc:
            raise StorageError(f"milvus {method} failed: {exc}") from exc

    async def insert(self, rows: Sequence[ChunkRow], vectors: Sequence[list[float]] | None) -> None:
        """Write new chunks (``insert``: milvus-lite's ``upsert`` reads every id back first,
        ~20× slower; callers delete a document's old chunks before writing it again)."""
        records: list[dict[str, Any]] = []
        for number, row in enumerate(rows):
            record = {
                **row.__dict__,
                "page": row.page or 0,
                "section": (row.section or "")[:500],
                "text": _fit(row.text),
                "terms": _fit(search_terms(row.text)),
            }
            if self.dimension is not None:
                if vectors is None:
                    raise ValueError("this collection needs a vector for every chunk")
                record["dense"] = vectors[number]
            records.append(record)
        for start in range(0, len(records), 500):
            await self._call("insert", data=records[start : start + 500])

    async def flush(self) -> None:
        """Seal what was written, so searches use its index (bulk loads, benchmarks)."""
        await self._call("flush")

    async def delete(self, expression: str) -> None:
        await self._call("delete", filter=expression)

    async def count(self, expression: str) -> int:
        rows = await self._call("query", filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    async def search_text(self, query: str, expression: str, *, limit: int) -> list[Hit]:
        """BM25 over ``terms``; only chunks sharing a term with ``query`` come back."""
        terms = search_terms(query)
        if not terms:  # only stop words ("what is it?"): nothing to rank on
            return []
        found = await self._search(terms, "sparse", expression, limit)
        # milvus-lite reports BM25 as a negated score (more negative is better).
        return [Hit(h["id"], abs(float(h["distance"])), dict(h["entity"])) for h in found]

    async def search_dense(self, vector: list[float], expression: str, *, limit: int) -> list[Hit]:
        found = await self._search(
            vector, "dense", expression, limit, search_params={"metric_type": "COSINE"}
        )
        return [Hit(h["id"], float(h["distance"]), dict(h["entity"])) for h in found]

    async def _search(
        self, query: str | list[float], field: str, expression: str, limit: int, **extra: Any
    ) -> list[dict[str, Any]]:
        result = await self._call(
            "search",
            data=[query],
            anns_field=field,
            limit=limit,
            filter=expression,
            output_fields=list(FIELDS),
            **extra,
        )
        return list(result[0])

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)
        if self._local_file is not None:
            await asyncio.to_thread(release_embedded_server, self._local_file)


def release_embedded_server(path: str | None = None) -> None:
    """Stop milvus-lite's in-process server for ``path`` (None: every one).

    milvus-lite 3 serves a ``.db`` file from a gRPC server inside this process, whose
    thread-pool workers (and the collections' compaction pools) are non-daemon threads,
    and stops it only in an atexit hook, which Python runs after it has joined such
    threads: a process that opened a file and did not release it can fail to exit.
    """
    try:
        from milvus_lite import server_manager_instance
    except ImportError:  # no milvus-lite on this platform
        return
    if path is None:
        server_manager_instance.release_all()
    else:
        server_manager_instance.release_server(path)


def _fit(text: str) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= TEXT_BYTES:
        return text
    return encoded[:TEXT_BYTES].decode("utf-8", errors="ignore")
