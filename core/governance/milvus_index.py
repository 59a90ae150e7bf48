"""The Milvus side of document deletion: :class:`~core.governance.purge.DocumentIndex`
over the chunk collection of ``core/retrieval``."""

from __future__ import annotations

from collections.abc import Sequence

from core.retrieval.scopes import literal
from core.retrieval.store import ChunkStore

_BATCH = 500
"""Ids per delete expression (keeps each expression small)."""


class ChunkStoreIndex:
    def __init__(self, store: ChunkStore) -> None:
        self._store = store

    async def delete(self, workspace_id: str, document_ids: Sequence[str]) -> None:
        ids = list(dict.fromkeys(document_ids))
        for start in range(0, len(ids), _BATCH):
            batch = ", ".join(literal(doc_id) for doc_id in ids[start : start + _BATCH])
            await self._store.delete(
                f"workspace == {literal(workspace_id)} and document_id in [{batch}]"
            )
