"""The router agent: keyword rules for almost everything, the LLM only when unsure."""

from __future__ import annotations

import json

import pytest

from core.agents import LLMSession, classify_message, route_message

from .conftest import Fakes, RouterFactory, total_requests, user_content

session_loop = pytest.mark.asyncio(loop_scope="session")

DATA = {"has_datasets": True, "has_documents": False}
DOCS = {"has_datasets": False, "has_documents": True}
BOTH = {"has_datasets": True, "has_documents": True}
NONE = {"has_datasets": False, "has_documents": False}

CASES = [
    # (message, what the thread holds, previous answer?, kind, confident)
    ("<@U1> usage", DATA, False, "command", True),
    ("datasets", NONE, False, "command", True),
    ("role <@U2> admin", DATA, True, "command", True),
    ("hi!", DATA, True, "chitchat", True),
    ("thanks", DATA, True, "chitchat", True),
    ("what can you do?", NONE, False, "chitchat", True),
    ("<@U1>", DATA, False, "chitchat", True),
    ("make it a bar chart", DATA, True, "chart_followup", True),
    ("log scale", DATA, True, "chart_followup", True),
    ("only 2007", DATA, True, "chart_followup", True),
    ("only Asia", DATA, True, "chart_followup", True),
    ("now as a pie chart please", DATA, True, "chart_followup", True),
    ("top 10, sorted ascending", DATA, True, "chart_followup", True),
    ("make it a bar chart", DATA, False, "data_question", True),
    ("average tip by day", DATA, False, "data_question", True),
    ("average tip by day", DATA, True, "data_question", True),
    ("help me read this chart of revenue by region", DATA, True, "data_question", True),
    ("what does the refund policy say about damaged items?", DOCS, False, "document_question",
     True),
    ("what does the refund policy say about damaged items?", BOTH, False, "document_question",
     True),
    ("average order value by month", BOTH, False, "data_question", True),
    ("how many rows are there", NONE, False, "data_question", True),
    ("tell me about Zanzibar", BOTH, False, "data_question", False),
    ("tell me about Zanzibar", NONE, False, "chitchat", False),
]  # fmt: skip


@pytest.mark.parametrize(("text", "holds", "previous", "kind", "confident"), CASES)
def test_rules(
    text: str, holds: dict[str, bool], previous: bool, kind: str, confident: bool
) -> None:
    route = classify_message(text, has_previous_answer=previous, **holds)
    assert (route.kind, route.confident) == (kind, confident)
    assert route.source == "rules"


def test_command_route_carries_the_parsed_command() -> None:
    route = classify_message("role <@U2> admin", has_datasets=False, has_previous_answer=False)
    assert route.command is not None and route.command.args == ["<@U2>", "admin"]


@session_loop
async def test_confident_rules_make_no_llm_call(fakes: Fakes, make_router: RouterFactory) -> None:
    llm = LLMSession(router=make_router(), workspace="w1")
    for text, holds, previous, kind, confident in CASES:
        if confident:
            route = await route_message(text, has_previous_answer=previous, llm=llm, **holds)
            assert route.kind == kind
    assert total_requests(fakes) == 0 and llm.calls == []


@session_loop
async def test_ambiguous_message_asks_the_llm(fakes: Fakes, make_router: RouterFactory) -> None:
    openai = fakes["openai"]
    openai.script(openai.text(json.dumps({"kind": "document_question"}), tokens_in=90))
    llm = LLMSession(router=make_router(), workspace="w1")

    route = await route_message(
        "tell me about Zanzibar", has_previous_answer=False, llm=llm, **BOTH
    )

    assert (route.kind, route.source) == ("document_question", "llm")
    [request] = openai.requests
    assert request.json["response_format"]["json_schema"]["name"] == "route"
    assert "Zanzibar" in user_content(request.json)
    assert [c.purpose for c in llm.calls] == ["route"] and llm.calls[0].tokens_in == 90


@session_loop
async def test_llm_cannot_invent_a_command(fakes: Fakes, make_router: RouterFactory) -> None:
    openai = fakes["openai"]
    openai.script(openai.text(json.dumps({"kind": "command"})))
    llm = LLMSession(router=make_router(), workspace="w1")

    route = await route_message("forget everything", has_previous_answer=False, llm=llm, **BOTH)

    assert route.kind == "chitchat" and route.command is None
