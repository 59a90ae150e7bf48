"""Figures built from results: kind, data, labels and layout defaults."""

from __future__ import annotations

import pandas as pd
import plotly.io as pio
import pytest

from core.analysis.columns import humanise
from core.analysis.execute import execute_spec
from core.analysis.spec import Aggregation, AnalysisSpec, ChartSpec, TimeBucket
from core.datasets.models import Table
from core.errors import InputError


def by_day(**kwargs: object) -> AnalysisSpec:
    return AnalysisSpec(
        aggregations=[Aggregation(func="sum", column="tip")],
        group_by=["day"],
        title="total tip by day",
        **kwargs,
    )


def test_bar_defaults(tips_table: Table, tips: pd.DataFrame) -> None:
    result = execute_spec(by_day(), tips_table)
    figure = result.figure
    assert figure is not None and result.table is not None
    bar = figure.data[0]
    assert bar.type == "bar"
    assert list(bar.x) == result.table["day"].tolist() == ["Thur", "Fri", "Sat", "Sun"]
    assert list(bar.y) == pytest.approx(tips.groupby("day")["tip"].sum()[list(bar.x)].tolist())
    layout = figure.layout
    assert layout.title.text == "total tip by day"
    assert layout.template == pio.templates["plotly_white"]
    assert layout.separators == ".,"
    assert layout.yaxis.tickformat == ","
    assert layout.xaxis.title.text == "Day"
    assert layout.yaxis.title.text == "Total tip"
    assert list(layout.xaxis.categoryarray) == ["Thur", "Fri", "Sat", "Sun"]
    assert layout.margin.l and layout.margin.t


def test_explicit_chart_title_wins(tips_table: Table) -> None:
    spec = by_day(chart=ChartSpec(kind="bar", title="Tips per day"))
    figure = execute_spec(spec, tips_table).figure
    assert figure is not None and figure.layout.title.text == "Tips per day"


def test_pie(tips_table: Table) -> None:
    result = execute_spec(by_day(chart=ChartSpec(kind="pie")), tips_table)
    assert result.figure is not None and result.table is not None
    pie = result.figure.data[0]
    assert pie.type == "pie"
    assert list(pie.labels) == result.table["day"].tolist()
    assert list(pie.values) == result.table["sum_tip"].tolist()


def test_time_bucket_draws_a_line(stocks_table: Table) -> None:
    spec = AnalysisSpec(
        aggregations=[Aggregation(func="mean", column="NFLX")],
        time_bucket=TimeBucket(column="date", freq="month"),
    )
    result = execute_spec(spec, stocks_table)
    assert result.figure is not None and result.table is not None
    line = result.figure.data[0]
    assert line.type == "scatter" and "lines" in line.mode
    assert list(pd.to_datetime(list(line.x))) == result.table["date"].tolist()
    assert list(line.y) == pytest.approx(result.table["mean_NFLX"].tolist())


def test_year_group_with_colour_draws_a_line_per_group(gapminder_table: Table) -> None:
    spec = AnalysisSpec(
        aggregations=[Aggregation(func="mean", column="lifeExp")], group_by=["continent", "year"]
    )
    figure = execute_spec(spec, gapminder_table).figure
    assert figure is not None
    assert {t.name for t in figure.data} == {"Africa", "Americas", "Asia", "Europe", "Oceania"}
    assert all("lines" in t.mode for t in figure.data)
    assert figure.layout.xaxis.title.text == "Year"
    assert figure.layout.xaxis.tickformat == "d"  # 2007, not 2,007


def test_scalar_has_no_figure(tips_table: Table) -> None:
    spec = AnalysisSpec(aggregations=[Aggregation(func="mean", column="tip")])
    assert execute_spec(spec, tips_table).figure is None


def test_histogram_and_box_of_a_distribution(tips_table: Table, tips: pd.DataFrame) -> None:
    spec = AnalysisSpec(operation="distribution", columns=["tip"])
    histogram = execute_spec(spec, tips_table).figure
    assert histogram is not None and histogram.data[0].type == "histogram"
    assert histogram.layout.xaxis.title.text == "Tip"
    spec.chart = ChartSpec(kind="box")
    box = execute_spec(spec, tips_table).figure
    assert box is not None and box.data[0].type == "box"
    assert sorted(box.data[0].y) == sorted(tips["tip"].tolist())


def test_chart_naming_a_missing_column_is_an_input_error(tips_table: Table) -> None:
    with pytest.raises(InputError, match="nope"):
        execute_spec(by_day(chart=ChartSpec(kind="bar", y="nope")), tips_table)


def test_heatmap_only_for_correlation(tips_table: Table) -> None:
    with pytest.raises(InputError):
        execute_spec(by_day(chart=ChartSpec(kind="heatmap")), tips_table)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("total_bill", "Total bill"),
        ("lifeExp", "Life expectancy"),
        ("gdpPercap", "GDP per capita"),
        ("sum_pop", "Total population"),
        ("mean_GOOG", "Mean GOOG"),
        ("count", "Count"),
    ],
)
def test_humanised_labels(name: str, label: str) -> None:
    assert humanise(name) == label
