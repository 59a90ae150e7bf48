"""The router's Prometheus series, read back through the exposition text a scrape gets."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from core.llm.types import ChatMessage, ChatRequest
from core.metrics import NexusMetrics
from core.metrics_collectors import BreakerStates

from .conftest import RouterFactory
from .fakes import FakeLLMServer

Fakes = dict[str, FakeLLMServer]


def ask() -> ChatRequest:
    return ChatRequest(
        messages=[ChatMessage(role="user", content="Which region sold most?")],
        workspace="w-metrics",
        user="u1",
        cache=False,
    )


def samples(metrics: NexusMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return sum(v for (n, ls), v in scraped.items() if n == name and set(labels.items()) <= ls)


async def test_calls_tokens_cost_and_failovers_are_counted(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    fakes["openai"].script(fakes["openai"].server_error(500))
    fakes["anthropic"].script(fakes["anthropic"].rate_limited(retry_after=None))
    fakes["groq"].script(fakes["groq"].text("West sold most.", tokens_in=120, tokens_out=30))
    metrics = NexusMetrics()
    router = make_router(observer=metrics)

    response = await router.chat(ask())

    got = samples(metrics)
    assert value(got, "nexus_llm_calls_total", provider="openai", outcome="server_error") == 1
    assert value(got, "nexus_llm_calls_total", provider="anthropic", outcome="rate_limited") == 1
    assert value(got, "nexus_llm_calls_total", provider="groq", outcome="ok") == 1
    assert (
        value(got, "nexus_llm_failovers_total", from_provider="openai", to_provider="anthropic")
        == 1
    )
    assert (
        value(got, "nexus_llm_failovers_total", from_provider="anthropic", to_provider="groq") == 1
    )
    tokens = {"provider": "groq", "model": response.model}
    assert value(got, "nexus_llm_tokens_total", direction="input", **tokens) == 120
    assert value(got, "nexus_llm_tokens_total", direction="output", **tokens) == 30
    assert response.cost_usd > 0
    assert value(got, "nexus_llm_cost_usd_total", **tokens) == response.cost_usd


async def test_circuit_state_is_read_from_the_breakers(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    for _ in range(2):
        fakes["openai"].script(fakes["openai"].server_error(503))
    fakes["anthropic"].script(fakes["anthropic"].text("ok"), fakes["anthropic"].text("ok"))
    metrics = NexusMetrics()
    router = make_router(observer=metrics, threshold=2, order=("openai", "anthropic"))
    metrics.registry.register(BreakerStates(router))
    assert value(samples(metrics), "nexus_llm_circuit_state", provider="openai") == 0

    await router.chat(ask())
    await router.chat(ask())

    got = samples(metrics)
    assert value(got, "nexus_llm_circuit_state", provider="openai") == 2  # open
    assert value(got, "nexus_llm_circuit_state", provider="anthropic") == 0
