"""Reciprocal rank fusion (Cormack et al., 2009) of the BM25 and dense result lists.

Done here rather than with Milvus's ``hybrid_search(RRFRanker)``: that returns only
the fused score, and the raw scores are what tell "nothing relevant" from "the least
bad passages" — the dense list always returns *something*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RRF_K = 60
"""The constant of the paper (and Milvus's default): damps the weight of top ranks."""


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    """BM25 score, or cosine similarity for dense hits (higher is better in both)."""
    fields: dict[str, object]


def reciprocal_rank_fusion(lists: Sequence[Sequence[Hit]], *, limit: int) -> list[Hit]:
    """Hits ordered by Σ 1/(k + rank) over the lists they appear in; the fused score
    replaces ``score``. Ties keep the order of first appearance (BM25 first)."""
    fused: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, 1):
            fused[hit.id] = fused.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(hit.id, hit)
    ordered = sorted(fused, key=lambda key: -fused[key])[:limit]
    return [Hit(key, fused[key], first[key].fields) for key in ordered]
