"""Failover order, no failover on refusals, the deadline, and the all-down message."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import ProviderRequestError, ProviderUnavailableError
from core.llm.accounting import InMemoryUsageRecorder
from core.llm.router import NO_PROVIDER_MESSAGE
from core.llm.types import ChatMessage, ChatRequest, Deadline, ToolSpec

from .conftest import RouterFactory
from .fakes import FakeLLMServer

Fakes = dict[str, FakeLLMServer]


def ask(**changes: object) -> ChatRequest:
    base: dict[str, object] = {
        "messages": [ChatMessage(role="user", content="Which region sold most?")],
        "workspace": "w-router",
        "user": "u1",
        "cache": False,
    }
    return ChatRequest.model_validate({**base, **changes})


async def test_fails_over_in_order_on_429_500_and_timeout(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    fakes["openai"].script(fakes["openai"].rate_limited(retry_after=None))
    fakes["anthropic"].script(fakes["anthropic"].server_error(500))
    fakes["groq"].script(fakes["groq"].text("West sold most."))
    router = make_router()

    response = await router.chat(ask())

    assert (response.provider, response.text) == ("groq", "West sold most.")
    times = [fakes[name].requests[0].at for name in ("openai", "anthropic", "groq")]
    assert times == sorted(times)
    assert all(fakes[name].request_count == 1 for name in fakes)


async def test_fails_over_on_timeout(fakes: Fakes, make_router: RouterFactory) -> None:
    fakes["openai"].script(fakes["openai"].slow())
    fakes["anthropic"].script(fakes["anthropic"].text("West."))
    router = make_router(timeout=0.3)

    response = await router.chat(ask())

    assert response.provider == "anthropic"
    gap = fakes["anthropic"].requests[0].at - fakes["openai"].requests[0].at
    assert 0.25 <= gap < 2.0  # waited for the client timeout, not longer
    assert fakes["groq"].request_count == 0


async def test_chain_override_orders_the_attempts(fakes: Fakes, make_router: RouterFactory) -> None:
    fakes["groq"].script(fakes["groq"].server_error(503))
    fakes["openai"].script(fakes["openai"].text("From OpenAI."))
    router = make_router()

    response = await router.chat(ask(), chain=["groq", "nonexistent", "openai"])

    assert response.provider == "openai"
    assert fakes["groq"].request_count == 1 and fakes["anthropic"].request_count == 0


async def test_no_failover_on_auth_failure(fakes: Fakes, make_router: RouterFactory) -> None:
    fakes["openai"].script(fakes["openai"].auth_error())
    router = make_router()

    with pytest.raises(ProviderRequestError) as caught:
        await router.chat(ask())

    error = caught.value
    assert (error.provider, error.reason) == ("openai", "auth")
    assert "openai" in error.user_message and "operator" in error.user_message
    assert "API key" in error.user_message
    assert fakes["anthropic"].request_count == 0 and fakes["groq"].request_count == 0
    assert router.breaker("openai").state.value == "closed"  # not an outage


async def test_no_failover_on_content_policy(fakes: Fakes, make_router: RouterFactory) -> None:
    fakes["openai"].script(fakes["openai"].content_policy())
    router = make_router()

    with pytest.raises(ProviderRequestError) as caught:
        await router.chat(ask())

    assert caught.value.reason == "content_policy"
    assert "rephras" in caught.value.user_message
    assert fakes["anthropic"].request_count == 0 and fakes["groq"].request_count == 0


async def test_malformed_tool_output_fails_over_and_both_calls_are_billed(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    tool = ToolSpec(name="pick_region", parameters={"type": "object"})
    fakes["openai"].script(fakes["openai"].tool_call("pick_region", "{not json"))
    fakes["anthropic"].script(fakes["anthropic"].tool_call("pick_region", {"region": "West"}))
    usage = InMemoryUsageRecorder()
    router = make_router(usage=usage)

    response = await router.chat(ask(tools=[tool]))

    assert response.provider == "anthropic"
    assert response.tool_calls[0].arguments == {"region": "West"}
    assert [r.provider for r in usage.records] == ["openai", "anthropic"]
    assert router.breaker("openai").state.value == "closed"


async def test_every_provider_down_gives_a_clear_message(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    # openai asks to come back in 1 s: the router waits once (the chain is exhausted
    # and 1 s fits the deadline), retries openai, which is still rate limited.
    fakes["openai"].script(fakes["openai"].rate_limited(1), fakes["openai"].rate_limited(1))
    fakes["anthropic"].script(fakes["anthropic"].server_error(500))
    fakes["groq"].script(fakes["groq"].slow())
    usage = InMemoryUsageRecorder()
    router = make_router(timeout=0.3, usage=usage)

    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask())

    assert caught.value.user_message == (
        "Every AI provider is unavailable right now (openai: rate limited, anthropic: 500, "
        "groq: timeout). Your quota was not charged; try again in a few minutes."
    )
    assert usage.records == []
    first, second = fakes["openai"].requests
    assert second.at - first.at >= 1.0
    assert fakes["anthropic"].request_count == 1 and fakes["groq"].request_count == 1


async def test_deadline_holds_when_every_provider_hangs(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    for server in fakes.values():
        server.script(server.slow())
    router = make_router(timeout=30.0)  # provider timeouts far beyond the deadline
    loop = asyncio.get_running_loop()

    started = loop.time()
    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask(), deadline=Deadline.within(0.6))
    elapsed = loop.time() - started

    assert 0.55 <= elapsed < 0.6 + 0.4
    assert "openai: timeout" in caught.value.user_message
    assert fakes["anthropic"].request_count == 0  # no time was left to try it


async def test_deadline_spans_calls_of_one_analysis(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    fakes["openai"].script(fakes["openai"].text("step one"))
    router = make_router()
    deadline = Deadline.within(0.3)

    assert (await router.chat(ask(), deadline=deadline)).text == "step one"
    await asyncio.sleep(0.35)  # the analysis spends its remaining time elsewhere
    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask(), deadline=deadline)

    assert "openai: no time left" in caught.value.user_message
    assert sum(server.request_count for server in fakes.values()) == 1


async def test_no_configured_provider(make_router: RouterFactory) -> None:
    router = make_router(order=())
    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask())
    assert caught.value.user_message == NO_PROVIDER_MESSAGE
