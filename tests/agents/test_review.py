"""The reviewer's caveats, and the optional LLM narrative that must cite real numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd
import pytest

from core.agents import Analyst, review
from core.analysis.planner import Plan, explain
from core.analysis.spec import AnalysisSpec
from core.answer import Answer
from core.datasets.models import Table
from core.engine import AnalysisEngine

from .conftest import Fakes, RouterFactory

session_loop = pytest.mark.asyncio(loop_scope="session")


async def run(engine: AnalysisEngine, table: Table, spec: Mapping[str, object]) -> Answer:
    parsed = AnalysisSpec.model_validate(spec)
    return await engine.answer_plan([table], "q", Plan(parsed, 0, explain(parsed)))


@session_loop
async def test_empty_result(engine: AnalysisEngine, tips: list[Table]) -> None:
    spec = {
        "filters": [{"column": "day", "value": "Mon"}],
        "aggregations": [{"func": "mean", "column": "tip"}],
    }
    answer = await run(engine, tips[0], spec)
    assert review(answer, answer.spec) == [
        "No rows passed the filters, so there is nothing to report; check the values."
    ]


@session_loop
async def test_all_missing_column(engine: AnalysisEngine) -> None:
    frame = pd.DataFrame(
        {
            "store": ["a", "b", "c", "a", "b", "c"],
            "sales": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "returns": [math.nan] * 6,
        }
    )
    table = Table("stores.csv", frame, "stores.csv", None, "h1")
    spec = {
        "group_by": ["store"],
        "aggregations": [{"func": "sum", "column": "sales"}, {"func": "mean", "column": "returns"}],
    }
    answer = await run(engine, table, spec)
    assert review(answer, answer.spec) == [
        "`mean_returns` has no values at all (every cell is missing)."
    ]


@session_loop
async def test_filter_that_removed_almost_everything(
    engine: AnalysisEngine, gapminder: list[Table]
) -> None:
    spec = {
        "filters": [{"column": "country", "value": "Japan"}],
        "aggregations": [{"func": "mean", "column": "lifeExp"}],
    }
    answer = await run(engine, gapminder[0], spec)
    [caveat] = review(answer, answer.spec)
    assert caveat.startswith("The filters kept only 12 of 1,704 rows (0.7%)")


@session_loop
async def test_units_and_identifier_groups(engine: AnalysisEngine, gapminder: list[Table]) -> None:
    summed = await run(
        engine,
        gapminder[0],
        {"group_by": ["continent"], "aggregations": [{"func": "sum", "column": "gdpPercap"}]},
    )
    [units] = review(summed, summed.spec)
    assert units.startswith("`gdpPercap` looks like a rate, percentage or per-unit figure")
    per_country = await run(
        engine,
        gapminder[0],
        {
            "filters": [{"column": "year", "value": 2007}],
            "group_by": ["country"],
            "aggregations": [{"func": "max", "column": "lifeExp"}],
        },
    )
    [groups] = review(per_country, per_country.spec)
    assert groups.startswith("Every group of country holds a single row")


@session_loop
async def test_clean_answer_has_no_caveats(engine: AnalysisEngine, tips: list[Table]) -> None:
    answer = await engine.answer(tips, "average tip by day")
    assert review(answer, answer.spec) == []


SPEC = {
    "dataset": 0,
    "spec": {
        "operation": "aggregate",
        "filters": [{"column": "day", "op": "in", "value": ["Sat", "Sun"]}],
        "aggregations": [{"func": "mean", "column": "tip"}],
    },
}


@session_loop
@pytest.mark.parametrize(
    ("narrative", "accepted"),
    [
        ("Weekend parties tipped {value:.2f} dollars on average, from {rows} bills.", True),
        ("Weekend parties tipped 4.75 dollars on average.", False),  # a number not computed
        ("<!channel> weekend tips average {value:.2f}.", False),  # a mention pings people
        ("Average {value:.2f}; details at https://example.com", False),
    ],
)
async def test_llm_narrative_must_cite_computed_numbers(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    tips: list[Table],
    narrative: str,
    accepted: bool,
) -> None:
    frame = tips[0].frame
    weekend = frame[frame["day"].isin(["Sat", "Sun"])]
    value = float(weekend["tip"].mean())
    openai = fakes["openai"]
    openai.script(
        openai.tool_call("answer_with_spec", SPEC),
        openai.text(narrative.format(value=value, rows=len(weekend))),
    )
    analyst = Analyst(engine=engine, router=make_router(), llm_narrative=True)

    answer = await analyst.answer(tips, "average tip on weekends", workspace="w1")

    assert answer.result.value == pytest.approx(value)
    assert [c.purpose for c in answer.receipt.llm_calls] == ["spec", "narrative"]
    if accepted:
        assert answer.text.startswith("Weekend parties tipped")
    else:
        assert answer.text.startswith("Mean of tip: ")
