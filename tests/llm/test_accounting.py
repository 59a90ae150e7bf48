"""Cost from the price table, recorded per workspace and user; the budget checked first."""

from __future__ import annotations

import pytest

from core.errors import ProviderUnavailableError, QuotaExceededError
from core.llm.accounting import InMemoryBudgetGuard, InMemoryUsageRecorder, UsageRecord
from core.llm.pricing import FALLBACK_PRICE, ModelPrice, PriceTable
from core.llm.types import ChatMessage, ChatRequest, ToolSpec

from .conftest import RouterFactory
from .fakes import FakeLLMServer

Fakes = dict[str, FakeLLMServer]


def ask(workspace: str = "w-cost", **changes: object) -> ChatRequest:
    base: dict[str, object] = {
        "messages": [ChatMessage(role="user", content="Total margin by quarter?")],
        "workspace": workspace,
        "user": "alice",
        "cache": False,
    }
    return ChatRequest.model_validate({**base, **changes})


async def test_cost_and_tokens_are_recorded(fakes: Fakes, make_router: RouterFactory) -> None:
    openai = fakes["openai"]
    # The reply names a dated snapshot; the table prices it as gpt-4.1-mini.
    openai.script(openai.text("Q3.", tokens_in=12_000, tokens_out=3_000))
    usage = InMemoryUsageRecorder()
    router = make_router(usage=usage)

    response = await router.chat(ask())

    expected = (12_000 * 0.40 + 3_000 * 1.60) / 1_000_000  # USD per 1M tokens
    assert response.cost_usd == pytest.approx(expected)
    assert usage.records == [
        UsageRecord(
            workspace="w-cost",
            user="alice",
            provider="openai",
            model="gpt-4.1-mini-2025-04-14",
            tokens_in=12_000,
            tokens_out=3_000,
            cost_usd=pytest.approx(expected),  # type: ignore[arg-type]
        )
    ]
    assert usage.spent("w-cost") == pytest.approx(0.0096)


async def test_configured_prices_override_the_table(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    anthropic = fakes["anthropic"]
    anthropic.script(anthropic.text("ok", tokens_in=1_000_000, tokens_out=1_000_000))
    usage = InMemoryUsageRecorder()
    prices = PriceTable(overrides={"claude-haiku-4-5": ModelPrice(2.0, 3.0)})
    router = make_router(order=("anthropic",), usage=usage, prices=prices)

    response = await router.chat(ask())

    assert response.cost_usd == pytest.approx(5.0)
    assert usage.records[0].cost_usd == pytest.approx(5.0)


def test_unknown_model_gets_the_conservative_price() -> None:
    table = PriceTable()
    assert table.price_for("some-new-model") == FALLBACK_PRICE
    assert table.price_for("gpt-4o-mini-2024-07-18") == ModelPrice(0.15, 0.60)  # longest prefix
    assert table.cost("some-new-model", 1_000_000, 0) == FALLBACK_PRICE.input_per_mtok


async def test_budget_is_checked_before_any_provider_call(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    usage = InMemoryUsageRecorder()
    budget = InMemoryBudgetGuard({"w-poor": 0.000_001}, usage)
    router = make_router(usage=usage, budget=budget)

    with pytest.raises(QuotaExceededError) as caught:
        await router.chat(ask("w-poor"))

    assert "budget" in caught.value.user_message
    assert sum(server.request_count for server in fakes.values()) == 0
    [(workspace, estimate)] = budget.checks
    # The estimate prices max_tokens at the chain's dearest model (anthropic here).
    assert workspace == "w-poor" and estimate >= 1024 * 5.0 / 1_000_000


async def test_spend_accumulates_until_the_budget_refuses(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    openai = fakes["openai"]
    openai.script(openai.text("one", tokens_in=100_000, tokens_out=10_000))
    usage = InMemoryUsageRecorder()
    budget = InMemoryBudgetGuard({"w-cost": 0.0561}, usage)
    router = make_router(order=("openai",), usage=usage, budget=budget)

    await router.chat(ask(max_tokens=100))  # costs 0.056; the next estimate is ~0.00017
    with pytest.raises(QuotaExceededError):
        await router.chat(ask(max_tokens=100))
    assert openai.request_count == 1


async def test_wasted_tokens_are_billed_and_the_outage_message_says_so(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    tool = ToolSpec(name="chart", parameters={"type": "object"})
    openai = fakes["openai"]
    openai.script(openai.tool_call("chart", "[1, 2"))
    usage = InMemoryUsageRecorder()
    router = make_router(order=("openai",), usage=usage)

    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask(tools=[tool]))

    assert "openai: unusable answer" in caught.value.user_message
    assert "not charged" not in caught.value.user_message
    assert [(r.tokens_in, r.tokens_out) for r in usage.records] == [(40, 12)]
