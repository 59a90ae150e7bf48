"""Ingest → ask → forget through DocumentLibrary on a real milvus-lite file."""

from __future__ import annotations

import pytest
from documents.docs_support import pdf_bytes  # tests/ is on sys.path

from core.errors import UnsupportedFileError
from core.retrieval.citing import NOT_FOUND
from core.retrieval.library import DocumentLibrary
from core.retrieval.scopes import Scope, scope_filter
from core.storage.db import Database
from core.storage.models import Document
from core.storage.repositories import documents

WS, CHANNEL, THREAD = "test:W1", "C1", "T1"
WARRANTY = (
    "The warranty covers manufacturing defects for 24 months. Batteries are covered for "
    "12 months. Damage from water is excluded from the warranty."
)
PAGES = ["Shipping takes three to five working days.", WARRANTY, "Returns: 30 days."]


async def test_answer_cites_the_page_it_came_from(library: DocumentLibrary) -> None:
    ingested = await library.ingest(
        pdf_bytes(PAGES), file_name="terms.pdf", workspace=WS, channel=CHANNEL, thread=THREAD
    )
    assert (ingested.pages, ingested.chunks, ingested.created) == (3, 3, True)
    found = await library.ask(
        "How long are batteries covered by the warranty?",
        workspace=WS,
        channel=CHANNEL,
        thread=THREAD,
    )
    first = found.answer.citations[0]
    assert (first.title, first.location) == ("terms.pdf", "p. 2")
    assert first.snippet == "Batteries are covered for 12 months."
    assert found.answer.text.splitlines()[1].startswith("[1] “Batteries are covered")
    assert found.search.mode == "bm25" and found.documents == ["terms.pdf"]


async def test_nothing_relevant_is_said_not_guessed(library: DocumentLibrary) -> None:
    await library.ingest(
        pdf_bytes(PAGES), file_name="terms.pdf", workspace=WS, channel=CHANNEL, thread=THREAD
    )
    found = await library.ask(
        "Which telescope observed Jupiter's moons?", workspace=WS, channel=CHANNEL, thread=THREAD
    )
    assert found.answer.text == NOT_FOUND and not found.answer.citations
    assert not found.answer.found


async def test_reupload_adds_no_chunks_and_charges_once(
    library: DocumentLibrary, database: Database
) -> None:
    charged: list[int] = []

    async def charge(size: int) -> None:
        charged.append(size)

    data = pdf_bytes(PAGES)
    scope = {"workspace": WS, "channel": CHANNEL, "thread": THREAD}
    first = await library.ingest(data, file_name="terms.pdf", before_store=charge, **scope)
    again = await library.ingest(data, file_name="terms-copy.pdf", before_store=charge, **scope)
    assert again.document_id == first.document_id and not again.created
    assert charged == [len(data)]
    store = library.search._store
    assert await store.count(scope_filter(WS, [Scope(CHANNEL, THREAD)])) == 3
    async with database.session() as session:
        rows = await documents.list_for_scope(session, WS, CHANNEL, THREAD)
    assert [(r.file_name, r.pages, r.chunk_count) for r in rows] == [("terms.pdf", 3, 3)]


async def test_forget_removes_rows_then_chunks(
    library: DocumentLibrary, database: Database
) -> None:
    scope = {"workspace": WS, "channel": CHANNEL, "thread": THREAD}
    await library.ingest(pdf_bytes(PAGES), file_name="terms.pdf", **scope)
    await library.ingest(b"# Kept\n\nThe warranty desk opens at 9.", file_name="desk.md", **scope)
    async with database.session() as session:
        gone = await documents.forget_scope(session, WS, CHANNEL, THREAD)
    assert sorted(d.file_name for d in gone) == ["desk.md", "terms.pdf"]
    # The catalogue is the truth: nothing forgotten is cited, even before the purge.
    found = await library.ask("warranty", **scope)
    assert not found.answer.citations
    await library.forget(WS, CHANNEL, THREAD)
    assert await library.search._store.count(scope_filter(WS, [Scope(CHANNEL, THREAD)])) == 0


async def test_stale_chunks_are_left_out_and_purged_when_seen(
    library: DocumentLibrary, database: Database
) -> None:
    scope = {"workspace": WS, "channel": CHANNEL, "thread": THREAD}
    forgotten = await library.ingest(pdf_bytes(PAGES), file_name="terms.pdf", **scope)
    kept = await library.ingest(b"The warranty desk opens at 9.", file_name="desk.txt", **scope)
    async with database.session() as session:  # a forget the worker has not seen yet
        await session.delete(await session.get(Document, forgotten.document_id))
    found = await library.ask("warranty", **scope)
    assert {c.title for c in found.answer.citations} == {"desk.txt"}
    remaining = await library.search._store.count(scope_filter(WS, [Scope(CHANNEL, THREAD)]))
    assert remaining == kept.chunks  # the forgotten document's chunks were purged


async def test_unreadable_upload_stores_nothing(
    library: DocumentLibrary, database: Database
) -> None:
    with pytest.raises(UnsupportedFileError):
        await library.ingest(
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
            file_name="scan.png",
            workspace=WS,
            channel=CHANNEL,
            thread=THREAD,
        )
    async with database.session() as session:
        assert await documents.list_for_scope(session, WS, CHANNEL, THREAD) == []
