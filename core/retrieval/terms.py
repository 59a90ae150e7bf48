"""The words BM25 ranks on: lower-cased, stop words dropped, stemmed (Snowball English).

Done here rather than by a Milvus analyzer because milvus-lite's analyzer only
tokenizes and lower-cases (its ``stemmer`` filter and ``_english_`` stop list are
silently ignored, checked with milvus-lite 3.2.2), while a Milvus server applies
them: stemming in Python gives both the same ranking. Chunks keep their original
``text`` for quoting; their ``terms`` field is what the BM25 function reads, and a
question goes through the same function before it is searched.
"""

from __future__ import annotations

import re

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
STOP_WORDS = frozenset(
    _WORD.findall(
        """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves tell please say says said"""
    )
)


def search_terms(text: str) -> str:
    """``"How are receipts reimbursed?"`` → ``"receipt reimburs"``."""
    stemmer = snowballstemmer.stemmer("english")  # instances keep state: one per call
    words = [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]
    return " ".join(stemmer.stemWords(words))
