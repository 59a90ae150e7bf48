"""Each provider, through its real SDK, against its fake server: requests out, replies in."""

from __future__ import annotations

import asyncio

import pytest

from core.llm.errors import FailureKind, ProviderFailure
from core.llm.providers.openai_provider import OpenAIProvider
from core.llm.types import ChatMessage, ChatRequest, ResponseSchema, ToolSpec

from .conftest import DIALECTS, make_provider
from .fakes import MODELS, PATHS, FakeLLMServer

SYSTEM = ChatMessage(role="system", content="You are a data analyst.")
QUESTION = ChatMessage(role="user", content="What is the total revenue?")
TOOL = ToolSpec(
    name="run_query",
    description="Run an aggregate over the dataset.",
    parameters={
        "type": "object",
        "properties": {"column": {"type": "string"}, "op": {"type": "string"}},
        "required": ["column", "op"],
    },
)


def request(**changes: object) -> ChatRequest:
    base: dict[str, object] = {"messages": [SYSTEM, QUESTION], "workspace": "w1", "user": "u1"}
    return ChatRequest.model_validate({**base, **changes})


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_text_round_trip_with_usage(dialect: str, fakes: dict[str, FakeLLMServer]) -> None:
    server = fakes[dialect]
    server.script(server.text("Revenue is 42.", tokens_in=123, tokens_out=45))
    provider = make_provider(server)
    try:
        response = await provider.complete(request(max_tokens=300))
    finally:
        await provider.aclose()

    assert response.text == "Revenue is 42."
    assert (response.tokens_in, response.tokens_out) == (123, 45)
    assert response.provider == dialect
    assert response.model == MODELS[dialect]
    assert response.tool_calls == [] and response.latency_ms > 0

    [sent] = server.requests
    assert sent.path == PATHS[dialect]
    if dialect == "anthropic":
        assert "temperature" not in sent.json  # the 2.x Messages API has none
        # The system prompt travels separately; only user/assistant turns in messages.
        assert sent.json["system"] == SYSTEM.content
        assert sent.json["messages"] == [{"role": "user", "content": QUESTION.content}]
        assert sent.json["max_tokens"] == 300
    else:
        assert sent.json["temperature"] == 0.0
        assert [m["role"] for m in sent.json["messages"]] == ["system", "user"]
        assert sent.json["max_completion_tokens"] == 300
    assert sent.json["model"] == make_provider(server).model_for(request())


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_tool_call_round_trip(dialect: str, fakes: dict[str, FakeLLMServer]) -> None:
    server = fakes[dialect]
    server.script(server.tool_call("run_query", {"column": "revenue", "op": "sum"}))
    provider = make_provider(server)
    try:
        response = await provider.complete(request(tools=[TOOL], tool_choice="required"))
    finally:
        await provider.aclose()

    [call] = response.tool_calls
    assert call.name == "run_query"
    assert call.arguments == {"column": "revenue", "op": "sum"}
    assert call.id
    assert (response.tokens_in, response.tokens_out) == (40, 12)

    sent = server.requests[0].json
    if dialect == "anthropic":
        assert sent["tools"] == [
            {"name": "run_query", "description": TOOL.description, "input_schema": TOOL.parameters}
        ]
        assert sent["tool_choice"] == {"type": "any"}
    else:
        assert sent["tools"][0]["type"] == "function"
        assert sent["tools"][0]["function"]["parameters"] == TOOL.parameters
        assert sent["tool_choice"] == "required"


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_structured_output_is_parsed(dialect: str, fakes: dict[str, FakeLLMServer]) -> None:
    server = fakes[dialect]
    server.script(server.text('{"metric": "revenue", "value": 42}'))
    schema = ResponseSchema(
        name="answer",
        json_schema={"type": "object", "properties": {"metric": {}, "value": {}}},
    )
    provider = make_provider(server)
    try:
        response = await provider.complete(request(response_schema=schema))
    finally:
        await provider.aclose()

    assert response.parsed == {"metric": "revenue", "value": 42}
    sent = server.requests[0].json
    if dialect == "anthropic":
        assert sent["output_config"]["format"] == {
            "type": "json_schema",
            "schema": schema.json_schema,
        }
    else:
        assert sent["response_format"]["type"] == "json_schema"
        assert sent["response_format"]["json_schema"]["schema"] == schema.json_schema


def _scripts(server: FakeLLMServer) -> dict[str, object]:
    return {
        "rate_limited": server.rate_limited(retry_after=1),
        "server_error": server.server_error(500),
        "overloaded": server.server_error(529, "Overloaded"),
        "auth": server.auth_error(),
        "content_policy": server.content_policy(),
        "timeout": server.slow(),
    }


EXPECTED = {
    "rate_limited": (FailureKind.RATE_LIMITED, True),
    "server_error": (FailureKind.SERVER_ERROR, True),
    "overloaded": (FailureKind.SERVER_ERROR, True),
    "auth": (FailureKind.AUTH, False),
    "content_policy": (FailureKind.CONTENT_POLICY, False),
    "timeout": (FailureKind.TIMEOUT, True),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
@pytest.mark.parametrize("dialect", DIALECTS)
async def test_sdk_errors_are_classified(
    dialect: str, case: str, fakes: dict[str, FakeLLMServer]
) -> None:
    server = fakes[dialect]
    server.script(_scripts(server)[case])  # type: ignore[arg-type]
    provider = make_provider(server, timeout=0.3)
    try:
        with pytest.raises(ProviderFailure) as caught:
            await provider.complete(request())
    finally:
        await provider.aclose()

    kind, retryable = EXPECTED[case]
    failure = caught.value
    assert (failure.kind, failure.retryable, failure.provider) == (kind, retryable, dialect)
    if case == "rate_limited":
        assert failure.retry_after == 1.0 and failure.status == 429
    if case == "overloaded":
        assert failure.label == "529"
    assert len(server.requests) == 1  # max_retries=0: the SDK never retried on its own


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_malformed_tool_output_is_retryable_and_keeps_usage(
    dialect: str, fakes: dict[str, FakeLLMServer]
) -> None:
    server = fakes[dialect]
    # OpenAI/Groq send arguments as a JSON string; Anthropic as an object.
    server.script(server.tool_call("run_query", '{"column": "revenue", "op": '))
    provider = make_provider(server)
    try:
        with pytest.raises(ProviderFailure) as caught:
            await provider.complete(request(tools=[TOOL]))
    finally:
        await provider.aclose()

    failure = caught.value
    assert failure.kind is FailureKind.MALFORMED_OUTPUT and failure.retryable
    assert not failure.unhealthy  # the provider is up; its breaker is left alone
    assert (failure.tokens_in, failure.tokens_out) == (40, 12)


async def test_unknown_tool_name_is_malformed(fakes: dict[str, FakeLLMServer]) -> None:
    server = fakes["openai"]
    server.script(server.tool_call("drop_tables", {"all": True}))
    provider = make_provider(server)
    try:
        with pytest.raises(ProviderFailure) as caught:
            await provider.complete(request(tools=[TOOL]))
    finally:
        await provider.aclose()
    assert caught.value.kind is FailureKind.MALFORMED_OUTPUT


async def test_structured_output_that_is_not_json_is_malformed(
    fakes: dict[str, FakeLLMServer],
) -> None:
    server = fakes["groq"]
    server.script(server.text("Sure! Here is the answer: 42"))
    provider = make_provider(server)
    schema = ResponseSchema(name="answer", json_schema={"type": "object"})
    try:
        with pytest.raises(ProviderFailure) as caught:
            await provider.complete(request(response_schema=schema))
    finally:
        await provider.aclose()
    assert caught.value.kind is FailureKind.MALFORMED_OUTPUT


async def test_unreachable_provider_is_classified() -> None:
    # A port that was just free: nothing listens there.
    server = asyncio.get_running_loop()
    sock_server = await server.create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = sock_server.sockets[0].getsockname()[1]
    sock_server.close()
    await sock_server.wait_closed()
    provider = OpenAIProvider(api_key="k", base_url=f"http://127.0.0.1:{port}/v1")
    try:
        with pytest.raises(ProviderFailure) as caught:
            await provider.complete(request())
    finally:
        await provider.aclose()
    assert caught.value.kind is FailureKind.UNREACHABLE and caught.value.retryable


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_clients_have_short_timeouts_and_no_sdk_retries(
    dialect: str, fakes: dict[str, FakeLLMServer]
) -> None:
    provider = make_provider(fakes[dialect], timeout=7.5)
    try:
        client = provider.client  # type: ignore[attr-defined]
        assert client.max_retries == 0
        assert client.timeout == 7.5
    finally:
        await provider.aclose()
