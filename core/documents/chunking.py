"""Cut a document's blocks into overlapping chunks that follow its structure.

A chunk never spans two sections or two pages, so its citation ("p. 3 · Refunds")
is exact; within one, paragraphs are packed up to ``chunk_chars``, a paragraph longer
than that is split at sentence ends, and each chunk starts with the last
``overlap_chars`` of the one before (whole sentences), so a fact straddling a cut is
whole in one of them. A section's heading is kept at the head of its chunks: it is
often what a question names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import groupby

from core.documents.models import Block, Chunk
from core.errors import FileTooLargeError
from core.settings import DocumentLimits

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=\S)")


def chunk_blocks(blocks: Sequence[Block], limits: DocumentLimits, *, file_name: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    size, overlap = limits.chunk_chars, min(limits.chunk_overlap_chars, limits.chunk_chars // 2)
    for (page, section), group in groupby(blocks, key=lambda b: (b.page, b.section)):
        members = list(group)
        heading = " ".join(b.text for b in members if b.heading)
        body = [b.text for b in members if not b.heading]
        for text in _pack(_pieces(body, size), size, overlap):
            if heading:
                text = f"{heading}\n{text}"
            chunks.append(Chunk(len(chunks), text, page=page, section=section))
            if len(chunks) > limits.max_chunks:
                raise FileTooLargeError(
                    f"{file_name} is too long to index (more than {limits.max_chunks:,} "
                    "passages). Upload the chapters you need as separate files."
                )
        if heading and not body:  # a heading alone is still findable by its words
            chunks.append(Chunk(len(chunks), heading, page=page, section=section))
    return chunks


def _pieces(paragraphs: Sequence[str], size: int) -> Iterator[str]:
    """Paragraphs, with any longer than ``size`` split at sentence ends (or hard)."""
    for paragraph in paragraphs:
        if len(paragraph) <= size:
            yield paragraph
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            for start in range(0, len(sentence), size):
                yield sentence[start : start + size]


def _pack(pieces: Iterator[str], size: int, overlap: int) -> Iterator[str]:
    current: list[str] = []
    length = 0
    for piece in pieces:
        if current and length + len(piece) + 1 > size:
            yield " ".join(current)
            current = _tail(current, overlap)
            length = sum(len(p) + 1 for p in current)
        current.append(piece)
        length += len(piece) + 1
    if current:
        yield " ".join(current)


def _tail(pieces: list[str], overlap: int) -> list[str]:
    """The last sentences of ``pieces`` that fit in ``overlap`` characters."""
    sentences = [s for piece in pieces for s in _SENTENCE_END.split(piece)]
    kept: list[str] = []
    length = 0
    for sentence in reversed(sentences):
        if length + len(sentence) + 1 > overlap:
            break
        kept.insert(0, sentence)
        length += len(sentence) + 1
    return [" ".join(kept)] if kept else []
