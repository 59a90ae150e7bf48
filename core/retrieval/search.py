"""A question to ranked passages: BM25 always, dense vectors when an embedder exists,
fused with reciprocal rank fusion; every query filtered to what the asker may see."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from core.documents.models import location_of
from core.errors import ProviderUnavailableError
from core.logging import get_logger
from core.retrieval.embedders import Embedder
from core.retrieval.fusion import Hit, reciprocal_rank_fusion
from core.retrieval.scopes import Scope, scope_filter
from core.retrieval.store import ChunkStore

log = get_logger("retrieval.search")

CANDIDATES = 20
"""Hits taken from each list before fusion: deeper than the answer needs, so a chunk
ranked 8th by BM25 and 2nd by vectors can still win."""


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    document_id: str
    file_name: str
    page: int | None
    section: str | None
    text: str
    score: float

    @property
    def location(self) -> str | None:
        return location_of(self.page, self.section)


@dataclass(frozen=True)
class SearchResult:
    passages: list[Passage]
    mode: str
    """``bm25`` or ``hybrid``."""
    elapsed_ms: float
    stale: bool = False
    """Chunks of documents no longer catalogued were seen (and left out): purge them."""


class DocumentSearch:
    def __init__(self, store: ChunkStore, embedder: Embedder | None) -> None:
        self._store = store
        self._embedder = embedder

    @property
    def mode(self) -> str:
        return "bm25" if self._embedder is None else "hybrid"

    async def search(
        self,
        question: str,
        *,
        workspace: str,
        scopes: Sequence[Scope],
        document_ids: Sequence[str] | None = None,
        limit: int = 5,
    ) -> SearchResult:
        """The best ``limit`` passages; empty when nothing is relevant.

        ``document_ids``: the asker's catalogued documents (None: any in the scopes);
        hits of other documents (forgotten, their chunks not yet purged) are left out
        here rather than in the Milvus filter, where a long ``in [...]`` list slows
        every query down.
        """
        started = time.perf_counter()
        if document_ids is not None and not document_ids:
            return SearchResult([], self.mode, 0.0)
        expression = scope_filter(workspace, scopes)
        lists = [await self._store.search_text(question, expression, limit=CANDIDATES)]
        if self._embedder is not None:
            lists = await self._with_dense(question, expression, lists[0], self._embedder)
        stale = False
        if document_ids is not None:
            allowed = set(document_ids)
            kept = [[h for h in hits if h.fields.get("document_id") in allowed] for hits in lists]
            stale = any(len(a) != len(b) for a, b in zip(kept, lists, strict=True))
            lists = kept
        hits = reciprocal_rank_fusion(lists, limit=limit)
        elapsed = (time.perf_counter() - started) * 1000
        return SearchResult([_passage(hit) for hit in hits], self.mode, elapsed, stale)

    async def _with_dense(
        self, question: str, expression: str, text_hits: list[Hit], embedder: Embedder
    ) -> list[list[Hit]]:
        try:
            (vector,) = await embedder.embed([question])
        except ProviderUnavailableError:
            log.warning("dense_search_skipped", embedder=embedder.name)
            return [text_hits]  # full text still answers; better than no answer
        dense = await self._store.search_dense(vector, expression, limit=CANDIDATES)
        # Vectors always find neighbours; only close ones count as evidence.
        relevant = [hit for hit in dense if hit.score >= embedder.min_similarity]
        return [text_hits, relevant]


def _passage(hit: Hit) -> Passage:
    fields = hit.fields
    page = int(str(fields.get("page") or 0))
    return Passage(
        chunk_id=hit.id,
        document_id=str(fields.get("document_id", "")),
        file_name=str(fields.get("file_name", "")),
        page=page or None,
        section=str(fields.get("section") or "") or None,
        text=str(fields.get("text", "")),
        score=hit.score,
    )
