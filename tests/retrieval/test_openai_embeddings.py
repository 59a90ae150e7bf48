"""Hybrid search with OpenAI embeddings, through the openai SDK against a fake endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_embeddings import FakeEmbeddings
from retrieval_support import settings_for

from core.errors import ProviderUnavailableError
from core.retrieval.embedders import OpenAIEmbedder, build_embedder
from core.retrieval.library import DocumentLibrary
from core.retrieval.store import collection_name
from core.storage.db import Database

WS, CHANNEL = "test:W1", "C1"
FLEET = b"""# Fleet handbook

## Car rental

Car rental is booked through the travel desk; the daily price limit is 70 EUR.

## Parking

Staff parking permits are issued by reception.
"""


@pytest.fixture
async def fake() -> AsyncIterator[FakeEmbeddings]:
    server = FakeEmbeddings()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def hybrid(
    fake: FakeEmbeddings, database: Database, tmp_path: Path
) -> AsyncIterator[DocumentLibrary]:
    settings = settings_for(
        tmp_path,
        embedder="auto",  # an OpenAI key is configured, so auto means OpenAI
        openai_api_key=fake.api_key,
        openai_base_url=fake.base_url,
    )
    library = await DocumentLibrary.open(settings, database)
    yield library
    await library.close()


async def test_vectors_find_what_shares_no_word_with_the_question(
    hybrid: DocumentLibrary, fake: FakeEmbeddings
) -> None:
    await hybrid.ingest(FLEET, file_name="fleet.md", workspace=WS, channel=CHANNEL, thread=None)
    assert fake.requests[0]["model"] == "text-embedding-3-small"
    assert len(fake.requests[0]["input"]) == 3  # every chunk embedded in one batch
    question = "automobile hire"  # no term in common with "Car rental ... price"
    found = await hybrid.ask(question, workspace=WS, channel=CHANNEL, thread=None)
    assert found.search.mode == "hybrid"
    assert found.answer.citations[0].location == "Fleet handbook › Car rental"
    bm25_only = await hybrid.search._store.search_text(question, 'workspace != ""', limit=5)
    assert bm25_only == []  # so the vectors found it


async def test_embeddings_outage_at_upload_is_a_clear_error(
    hybrid: DocumentLibrary, fake: FakeEmbeddings
) -> None:
    fake.failures = 10
    with pytest.raises(ProviderUnavailableError) as failed:
        await hybrid.ingest(FLEET, file_name="fleet.md", workspace=WS, channel=CHANNEL, thread=None)
    assert "could not be indexed" in failed.value.user_message
    assert len(fake.requests) == 3  # the SDK's own two retries, then us


async def test_embeddings_outage_at_question_time_falls_back_to_full_text(
    hybrid: DocumentLibrary, fake: FakeEmbeddings
) -> None:
    await hybrid.ingest(FLEET, file_name="fleet.md", workspace=WS, channel=CHANNEL, thread=None)
    fake.failures = 10
    found = await hybrid.ask("parking permits", workspace=WS, channel=CHANNEL, thread=None)
    assert found.answer.citations[0].location == "Fleet handbook › Parking"


def test_embedder_choice_follows_settings(tmp_path: Path) -> None:
    none = settings_for(tmp_path, embedder="none", openai_api_key="k")
    assert build_embedder(none) is None
    chosen = build_embedder(settings_for(tmp_path, embedder="auto", openai_api_key="k"))
    assert isinstance(chosen, OpenAIEmbedder) and chosen.dimension == 1536
    # Each embedder's vectors live in their own collection.
    assert (
        collection_name("nexus_chunks", chosen.name)
        == "nexus_chunks__openai_text_embedding_3_small"
    )
    assert collection_name("nexus_chunks", None) == "nexus_chunks"
