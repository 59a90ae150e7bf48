"""The analyst's spec path: deterministic first, then an LLM-filled spec; failover; outage.

Answers are checked against pandas computed here, independently.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from core.agents import Analyst
from core.datasets.models import Table
from core.datasets.profile import profile_table
from core.engine import AnalysisEngine
from core.errors import ProviderUnavailableError, QuestionNotUnderstoodError
from core.llm.accounting import InMemoryUsageRecorder
from core.llm.pricing import PriceTable

from .conftest import Fakes, RouterFactory, bodies, total_requests, user_content

pytestmark = pytest.mark.asyncio(loop_scope="session")

WEEKEND_SMOKERS: dict[str, Any] = {
    "dataset": 0,
    "spec": {
        "operation": "aggregate",
        "filters": [
            {"column": "day", "op": "in", "value": ["Sat", "Sun"]},
            {"column": "smoker", "op": "==", "value": "Yes"},
        ],
        "aggregations": [{"func": "mean", "column": "tip"}],
    },
}
QUESTION = "average tip on weekends for smokers"


def expected_weekend_smokers(frame: pd.DataFrame) -> float:
    chosen = frame[frame["day"].isin(["Sat", "Sun"]) & (frame["smoker"] == "Yes")]
    return float(chosen["tip"].mean())


async def test_deterministic_questions_make_no_llm_requests(
    fakes: Fakes, make_router: RouterFactory, engine: AnalysisEngine, tips: list[Table]
) -> None:
    analyst = Analyst(engine=engine, router=make_router())

    answer = await analyst.answer(tips, "average tip by day", workspace="w1", user="u1")

    assert total_requests(fakes) == 0
    assert answer.receipt.planner == "deterministic" and answer.receipt.llm_calls == []
    expected = tips[0].frame.groupby("day")["tip"].mean()
    got = {row[0]: row[1] for row in answer.result.rows}
    assert got == pytest.approx(expected.to_dict())


async def test_llm_fills_the_spec_the_planner_refused(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    tips_frame: pd.DataFrame,
    usage: InMemoryUsageRecorder,
) -> None:
    with pytest.raises(QuestionNotUnderstoodError):
        engine.plan(tips, QUESTION, [profile_table(tips[0])])
    fakes["openai"].script(fakes["openai"].tool_call("answer_with_spec", WEEKEND_SMOKERS))
    analyst = Analyst(engine=engine, router=make_router(usage=usage))

    answer = await analyst.answer(tips, QUESTION, workspace="w1", user="u1")

    assert answer.result.kind == "scalar"
    assert answer.result.value == pytest.approx(expected_weekend_smokers(tips_frame))
    assert answer.receipt.method == "spec" and answer.receipt.planner == "llm"
    [body] = bodies(fakes)
    assert body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in body["tools"]] == ["answer_with_spec", "needs_code"]
    assert body["messages"][0]["role"] == "system"
    assert "tip" in user_content(body) and QUESTION in user_content(body)
    # Cost and tokens: on the receipt and in the ledger, priced from the price table.
    [call] = answer.receipt.llm_calls
    price = PriceTable().cost("gpt-4.1-mini-2025-04-14", 40, 12)
    assert (call.provider, call.purpose, call.tokens_in, call.tokens_out) == (
        "openai",
        "spec",
        40,
        12,
    )
    assert answer.receipt.cost_usd == pytest.approx(price) and price > 0
    assert (answer.receipt.tokens_in, answer.receipt.tokens_out) == (40, 12)
    assert answer.receipt.model == "gpt-4.1-mini-2025-04-14"
    assert usage.spent("w1") == pytest.approx(price)


async def test_invalid_spec_is_repaired_with_the_error(
    fakes: Fakes, make_router: RouterFactory, engine: AnalysisEngine, tips: list[Table]
) -> None:
    wrong = {"dataset": 0, "spec": {**WEEKEND_SMOKERS["spec"], "aggregations": [
        {"func": "mean", "column": "tips"}
    ]}}  # fmt: skip
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("answer_with_spec", wrong),
        openai.tool_call("answer_with_spec", WEEKEND_SMOKERS),
    )
    analyst = Analyst(engine=engine, router=make_router())

    answer = await analyst.answer(tips, QUESTION, workspace="w1")

    assert answer.result.kind == "scalar"
    first, second = bodies(fakes)
    assert len(second["messages"]) == len(first["messages"]) + 2
    assert "`tips`" in user_content(second, 1) and "UnknownColumn" in user_content(second, 1)
    assert [c.purpose for c in answer.receipt.llm_calls] == ["spec", "spec_repair"]


async def test_failover_reaches_the_analyst(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    tips_frame: pd.DataFrame,
) -> None:
    fakes["openai"].script(fakes["openai"].server_error(500))
    fakes["anthropic"].script(fakes["anthropic"].tool_call("answer_with_spec", WEEKEND_SMOKERS))
    analyst = Analyst(engine=engine, router=make_router())

    answer = await analyst.answer(tips, QUESTION, workspace="w1")

    assert answer.result.value == pytest.approx(expected_weekend_smokers(tips_frame))
    [call] = answer.receipt.llm_calls
    assert call.provider == "anthropic" and call.model.startswith("claude-haiku-4-5")
    anthropic_body = fakes["anthropic"].requests[0].json
    assert anthropic_body["tool_choice"] == {"type": "any"}
    assert "system" in anthropic_body and "tip" in user_content(anthropic_body)
    assert fakes["groq"].request_count == 0


async def test_every_provider_down_is_a_clear_message(
    fakes: Fakes, make_router: RouterFactory, engine: AnalysisEngine, tips: list[Table]
) -> None:
    fakes["openai"].script(fakes["openai"].server_error(503))
    fakes["anthropic"].script(fakes["anthropic"].server_error(500))
    fakes["groq"].script(fakes["groq"].rate_limited(retry_after=None))
    usage = InMemoryUsageRecorder()
    analyst = Analyst(engine=engine, router=make_router(usage=usage))

    with pytest.raises(ProviderUnavailableError) as caught:
        await analyst.answer(tips, QUESTION, workspace="w1")

    message = caught.value.user_message
    assert "openai: 503" in message and "anthropic: 500" in message
    assert "groq: rate limited" in message
    # Nothing was billed, so the message promises no charge; refunding the question's
    # quota is the caller's job, and this error is its signal.
    assert "quota was not charged" in message and usage.records == []


async def test_without_a_router_the_planner_refusal_stands(
    fakes: Fakes, engine: AnalysisEngine, tips: list[Table]
) -> None:
    with pytest.raises(QuestionNotUnderstoodError, match="weekends"):
        await Analyst(engine=engine).answer(tips, QUESTION, workspace="w1")
    assert total_requests(fakes) == 0


async def test_model_that_will_not_call_a_tool_gets_a_clear_refusal(
    fakes: Fakes, make_router: RouterFactory, engine: AnalysisEngine, tips: list[Table]
) -> None:
    openai = fakes["openai"]
    openai.script(openai.text("The answer is 3.5"), openai.text("Really, 3.5"))
    analyst = Analyst(engine=engine, router=make_router())

    with pytest.raises(QuestionNotUnderstoodError) as caught:
        await analyst.answer(tips, QUESTION, workspace="w1")

    assert "3.5" not in caught.value.user_message  # the model's prose is never posted
    assert openai.request_count == 2  # one try plus max_spec_repairs=1
