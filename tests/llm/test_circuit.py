"""Circuit breakers: open after repeated failures, skip without a request, probe, recover."""

from __future__ import annotations

import pytest

from core.errors import ProviderUnavailableError
from core.llm.circuit import BreakerState, CircuitBreaker
from core.llm.types import ChatMessage, ChatRequest

from .conftest import FakeClock, RouterFactory
from .fakes import FakeLLMServer

Fakes = dict[str, FakeLLMServer]


def ask() -> ChatRequest:
    return ChatRequest(
        messages=[ChatMessage(role="user", content="Median basket size?")],
        workspace="w-circuit",
        cache=False,
    )


def test_breaker_state_machine() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=3, cooldown_seconds=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_success()  # consecutive failures only
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()

    clock.advance(10)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # everyone else waits for it
    breaker.record_failure()  # probe failed: open again, fresh cooldown
    assert breaker.state is BreakerState.OPEN
    clock.advance(9.9)
    assert not breaker.allow()
    clock.advance(0.1)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow() and breaker.allow()


def test_hold_and_neutral() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, cooldown_seconds=5, clock=clock)
    breaker.hold(2)
    assert not breaker.allow() and breaker.held_for == 2
    clock.advance(2)
    assert breaker.allow()
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()  # probe claimed...
    breaker.record_neutral()  # ...but cancelled: the slot is free again
    assert breaker.allow()


async def test_circuit_opens_then_recovers_through_a_half_open_probe(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    clock = FakeClock()
    openai, anthropic = fakes["openai"], fakes["anthropic"]
    openai.script(openai.server_error(500), openai.server_error(502), openai.text("Recovered."))
    anthropic.script(*(anthropic.text(f"Anthropic {i}") for i in range(3)))
    router = make_router(clock=clock, threshold=2, cooldown=30.0)

    for _ in range(2):
        assert (await router.chat(ask())).provider == "anthropic"
    assert router.breaker("openai").state is BreakerState.OPEN

    # Open: the call goes straight to anthropic; no request reaches openai's fake.
    assert (await router.chat(ask())).text == "Anthropic 2"
    assert openai.request_count == 2

    clock.advance(30.0)  # cooldown over: the next call is the probe
    response = await router.chat(ask())
    assert (response.provider, response.text) == ("openai", "Recovered.")
    assert openai.request_count == 3
    assert router.breaker("openai").state is BreakerState.CLOSED


async def test_failed_probe_reopens_the_circuit(fakes: Fakes, make_router: RouterFactory) -> None:
    clock = FakeClock()
    openai, anthropic = fakes["openai"], fakes["anthropic"]
    openai.script(openai.server_error(500), openai.server_error(500))
    anthropic.script(*(anthropic.text("ok") for _ in range(3)))
    router = make_router(clock=clock, threshold=1, cooldown=30.0)

    await router.chat(ask())
    clock.advance(30.0)
    await router.chat(ask())  # the probe fails, anthropic answers
    assert router.breaker("openai").state is BreakerState.OPEN
    await router.chat(ask())
    assert openai.request_count == 2


async def test_every_circuit_open_is_reported(fakes: Fakes, make_router: RouterFactory) -> None:
    clock = FakeClock()
    for server in fakes.values():
        server.script(server.server_error(500))
    router = make_router(clock=clock, threshold=1)

    with pytest.raises(ProviderUnavailableError):
        await router.chat(ask())
    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask())

    assert "openai: paused after repeated errors" in caught.value.user_message
    assert all(server.request_count == 1 for server in fakes.values())
