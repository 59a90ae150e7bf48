"""Chunks follow the document's structure, stay within size, and overlap."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from core.documents.chunking import chunk_blocks
from core.documents.models import Block
from core.settings import DocumentLimits

LIMITS = DocumentLimits(_env_file=None, chunk_chars=300, chunk_overlap_chars=80)  # type: ignore[call-arg]

_words = st.text(alphabet="abcdefghij", min_size=1, max_size=12)
_sentences = st.lists(_words, min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ".")
_paragraphs = st.lists(_sentences, min_size=1, max_size=8).map(" ".join)
_blocks = st.lists(
    st.tuples(_paragraphs, st.integers(1, 3), st.sampled_from(["A", "B"])), min_size=1, max_size=12
).map(lambda items: [Block(text, page=page, section=section) for text, page, section in items])


@settings(max_examples=60, deadline=None)
@given(_blocks)
def test_chunks_cover_every_sentence_within_bounds(blocks: list[Block]) -> None:
    chunks = chunk_blocks(blocks, LIMITS, file_name="x.txt")
    bound = LIMITS.chunk_chars + LIMITS.chunk_overlap_chars + 1
    assert all(len(c.text) <= bound for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for block in blocks:
        same_place = [c.text for c in chunks if (c.page, c.section) == (block.page, block.section)]
        for piece in block.text.split(". "):
            fragment = piece[: LIMITS.chunk_chars].rstrip(".")
            assert any(fragment in text for text in same_place), fragment


def test_consecutive_chunks_overlap_and_keep_the_heading() -> None:
    sentences = [f"Rule {n} says that item {n} costs {n * 10} euros." for n in range(1, 30)]
    blocks = [
        Block("Prices", section="Prices", heading=True),
        *(Block(s, section="Prices") for s in sentences),
    ]
    chunks = chunk_blocks(blocks, LIMITS, file_name="prices.md")
    assert len(chunks) > 3
    for before, after in pairwise(chunks):
        assert after.text.startswith("Prices\n")
        last_sentence = before.text.rsplit(". ", 1)[-1]
        assert last_sentence in after.text  # the cut is bridged
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)


def test_chunks_never_span_pages_or_sections() -> None:
    blocks = [
        Block("Alpha one.", page=1, section="A"),
        Block("Alpha two.", page=1, section="A"),
        Block("Beta one.", page=1, section="B"),
        Block("Beta two.", page=2, section="B"),
    ]
    chunks = chunk_blocks(blocks, LIMITS, file_name="x.pdf")
    assert [(c.page, c.section, c.text) for c in chunks] == [
        (1, "A", "Alpha one. Alpha two."),
        (1, "B", "Beta one."),
        (2, "B", "Beta two."),
    ]
