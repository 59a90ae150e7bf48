"""Cited answers: an LLM through the real router and OpenAI SDK (fake server), or the
passages themselves when no LLM is configured."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from llm.fakes import FakeLLMServer  # tests/ is on sys.path; tests/llm is package "llm"

from core.agents.calls import LLMSession
from core.llm.providers.openai_provider import OpenAIProvider
from core.llm.router import LLMRouter
from core.retrieval.citing import NOT_FOUND, answer_from_passages, extractive_answer, renumber
from core.retrieval.search import Passage

QUESTION = "How long is the warranty on batteries?"
PASSAGES = [
    Passage("d1:0", "d1", "terms.pdf", 2, None, "Batteries are covered for 12 months.", 0.03),
    Passage("d1:1", "d1", "terms.pdf", 3, None, "Returns are accepted within 30 days.", 0.02),
    Passage("d2:0", "d2", "faq.md", None, "Warranty", "The warranty is 24 months.", 0.01),
]


@pytest.fixture
async def openai() -> AsyncIterator[FakeLLMServer]:
    server = FakeLLMServer("openai")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def llm(openai: FakeLLMServer) -> AsyncIterator[LLMSession]:
    provider = OpenAIProvider(api_key=openai.api_key, base_url=openai.base_url, timeout_seconds=5.0)
    router = LLMRouter([provider], max_retry_wait_seconds=0.0)
    yield LLMSession(router, "test:W1", "U1")
    await router.aclose()


async def test_llm_answer_cites_renumbered_sources(llm: LLMSession, openai: FakeLLMServer) -> None:
    reply = {
        "found": True,
        "answer": "Batteries are covered for 12 months [3] [1], the rest for 24 months [3].",
        "sources": [3, 1],
    }
    openai.script(openai.text(json.dumps(reply)))
    answer = await answer_from_passages(QUESTION, PASSAGES, llm=llm)
    assert answer.method == "llm" and answer.found
    assert answer.text == "Batteries are covered for 12 months [1] [2], the rest for 24 months [1]."
    assert [(c.title, c.location) for c in answer.citations] == [
        ("faq.md", "Warranty"),
        ("terms.pdf", "p. 2"),
    ]
    assert answer.llm_calls[0].purpose == "documents"
    sent = openai.requests[0].json["messages"][1]["content"]
    assert "<<DATA" in sent and "Batteries are covered for 12 months." in sent  # fenced data


async def test_llm_saying_not_found_is_passed_on(llm: LLMSession, openai: FakeLLMServer) -> None:
    openai.script(openai.text(json.dumps({"found": False, "answer": "", "sources": []})))
    answer = await answer_from_passages(QUESTION, PASSAGES, llm=llm)
    assert (answer.text, answer.citations, answer.found) == (NOT_FOUND, [], False)


async def test_provider_outage_falls_back_to_the_passages(
    llm: LLMSession, openai: FakeLLMServer
) -> None:
    openai.script(*(openai.server_error() for _ in range(5)))
    answer = await answer_from_passages(QUESTION, PASSAGES, llm=llm)
    assert answer.method == "extractive" and len(answer.citations) == 3
    assert answer.notes == ["No AI provider answered, so these are the closest passages."]


def test_extractive_answer_quotes_each_passage() -> None:
    answer = extractive_answer(QUESTION, PASSAGES[:2])
    assert answer.text.splitlines() == [
        "The most relevant passages in the documents shared here:",
        "[1] “Batteries are covered for 12 months.” (terms.pdf, p. 2)",
        "[2] “Returns are accepted within 30 days.” (terms.pdf, p. 3)",
    ]
    assert extractive_answer(QUESTION, []).text == NOT_FOUND


def test_renumber_drops_markers_that_point_nowhere() -> None:
    assert renumber("A [7]. B [2].", [2], 3) == ("A. B [1].", [2])
