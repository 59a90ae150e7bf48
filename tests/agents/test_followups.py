"""Chart follow-ups edit the previous spec deterministically; the LLM only when needed."""

from __future__ import annotations

from typing import Any

import pytest

from core.agents import Analyst, apply_followup
from core.analysis.spec import AnalysisSpec
from core.datasets.models import Table
from core.datasets.profile import profile_table
from core.engine import AnalysisEngine

from .conftest import Fakes, RouterFactory, bodies, total_requests, user_content

session_loop = pytest.mark.asyncio(loop_scope="session")


def plan(engine: AnalysisEngine, table: Table, question: str) -> AnalysisSpec:
    return engine.plan([table], question, [profile_table(table)]).spec


@pytest.fixture
def by_continent(engine: AnalysisEngine, gapminder: list[Table]) -> AnalysisSpec:
    return plan(engine, gapminder[0], "average lifeExp by continent")


def edit(spec: AnalysisSpec, text: str, table: Table) -> dict[str, Any]:
    edited = apply_followup(spec, text, table=table)
    assert edited is not None, text
    return edited.model_dump(mode="json", exclude_defaults=True)


def test_chart_kind(by_continent: AnalysisSpec, gapminder: list[Table]) -> None:
    assert edit(by_continent, "make it a line chart", gapminder[0])["chart"] == {"kind": "line"}
    assert edit(by_continent, "now as a pie chart", gapminder[0])["chart"] == {"kind": "pie"}
    # Everything else is kept as it was.
    edited = edit(by_continent, "make it a line chart", gapminder[0])
    assert edited["group_by"] == ["continent"] and "filters" not in edited


def test_log_scale_starts_from_the_chart_shown(
    by_continent: AnalysisSpec, gapminder: list[Table]
) -> None:
    # The previous answer had no explicit chart; it showed the default bar chart.
    assert edit(by_continent, "log scale", gapminder[0])["chart"] == {"kind": "bar", "log_y": True}
    line = apply_followup(by_continent, "make it a line chart", table=gapminder[0])
    assert line is not None
    assert edit(line, "log scale on the y axis", gapminder[0])["chart"] == {
        "kind": "line",
        "log_y": True,
    }


def test_only_a_year_and_only_a_region(by_continent: AnalysisSpec, gapminder: list[Table]) -> None:
    table = gapminder[0]
    assert edit(by_continent, "only 2007", table)["filters"] == [{"column": "year", "value": 2007}]
    assert edit(by_continent, "only Asia", table)["filters"] == [
        {"column": "continent", "value": "Asia"}
    ]
    assert edit(by_continent, "only Asia and Europe", table)["filters"] == [
        {"column": "continent", "op": "in", "value": ["Asia", "Europe"]}
    ]
    assert edit(by_continent, "without Oceania", table)["filters"] == [
        {"column": "continent", "op": "not_in", "value": ["Oceania"]}
    ]
    # A second "only" replaces the first on the same column, and keeps other filters.
    in_2007 = apply_followup(by_continent, "only 2007", table=table)
    assert in_2007 is not None
    both = edit(in_2007, "only Asia", table)["filters"]
    assert both == [{"column": "year", "value": 2007}, {"column": "continent", "value": "Asia"}]
    assert edit(in_2007, "only year 2002", table)["filters"] == [{"column": "year", "value": 2002}]


def test_top_n_and_sorting(
    engine: AnalysisEngine, by_continent: AnalysisSpec, gapminder: list[Table]
) -> None:
    table = gapminder[0]
    by_country = plan(engine, table, "average gdpPercap by country")
    top = edit(by_country, "top 10", table)
    assert top["limit"] == 10 and top["sort"] == {"column": "mean_gdpPercap"}
    assert edit(by_continent, "sort ascending", table)["sort"] == {
        "column": "mean_lifeExp",
        "descending": False,
    }
    bottom = edit(by_country, "bottom 5", table)
    assert bottom["limit"] == 5 and bottom["sort"]["descending"] is False


@pytest.mark.parametrize(
    "text",
    [
        "make it a bar chart of gdp by continent",  # a new question, not an edit
        "only Atlantis",  # not a value in the data
        "why is Africa so low?",
        "",
    ],
)
def test_what_is_not_a_plain_edit_is_refused(
    by_continent: AnalysisSpec, gapminder: list[Table], text: str
) -> None:
    assert apply_followup(by_continent, text, table=gapminder[0]) is None


def test_log_scale_on_a_pie_is_refused(by_continent: AnalysisSpec, gapminder: list[Table]) -> None:
    pie = apply_followup(by_continent, "make it a pie chart", table=gapminder[0])
    assert pie is not None
    assert apply_followup(pie, "log scale", table=gapminder[0]) is None


@session_loop
async def test_analyst_redraws_without_the_llm(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    gapminder: list[Table],
    by_continent: AnalysisSpec,
) -> None:
    analyst = Analyst(engine=engine, router=make_router())
    table = gapminder[0]

    answer = await analyst.answer_followup(
        gapminder, "only 2007", previous=by_continent, dataset=table.name, workspace="w1"
    )

    assert total_requests(fakes) == 0 and answer.receipt.llm_calls == []
    frame = table.frame
    expected = frame[frame["year"] == 2007].groupby("continent")["lifeExp"].mean()
    assert dict(answer.result.rows) == pytest.approx(expected.to_dict())  # type: ignore[arg-type]
    assert answer.receipt.rows_used == int((frame["year"] == 2007).sum())


@session_loop
async def test_analyst_asks_the_llm_to_edit_what_rules_cannot(
    fakes: Fakes,
    make_router: RouterFactory,
    engine: AnalysisEngine,
    gapminder: list[Table],
    by_continent: AnalysisSpec,
) -> None:
    median = by_continent.model_dump(mode="json")
    median["aggregations"] = [{"func": "median", "column": "lifeExp"}]
    fakes["openai"].script(
        fakes["openai"].tool_call("answer_with_spec", {"dataset": 0, "spec": median})
    )
    analyst = Analyst(engine=engine, router=make_router())

    answer = await analyst.answer_followup(
        gapminder,
        "show the median instead",
        previous=by_continent,
        dataset=gapminder[0].name,
        workspace="w1",
    )

    [body] = bodies(fakes)
    prompt = user_content(body)
    assert "(previous spec)" in prompt and '"mean"' in prompt
    expected = gapminder[0].frame.groupby("continent")["lifeExp"].median()
    assert dict(answer.result.rows) == pytest.approx(expected.to_dict())  # type: ignore[arg-type]
    assert answer.receipt.planner == "llm"
