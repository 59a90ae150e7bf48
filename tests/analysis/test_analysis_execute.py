"""execute_spec on hand-written specs, each compared with pandas computed directly."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

from core.analysis.execute import execute_spec
from core.analysis.spec import Aggregation, AnalysisSpec, Filter, Sort, TimeBucket
from core.datasets.models import Table
from core.errors import InputError

TableOf = Callable[[str, pd.DataFrame], Table]


def mean_tip(**kwargs: object) -> AnalysisSpec:
    return AnalysisSpec(aggregations=[Aggregation(func="mean", column="tip")], **kwargs)


@pytest.mark.parametrize(
    ("flt", "mask"),
    [
        (Filter(column="time", value="dinner"), lambda t: t["time"] == "Dinner"),
        (Filter(column="day", op="!=", value="SUN"), lambda t: t["day"] != "Sun"),
        (Filter(column="size", value="2"), lambda t: t["size"] == 2),
        (Filter(column="total_bill", op=">=", value=20), lambda t: t["total_bill"] >= 20),
        (Filter(column="total_bill", op="<", value=10.5), lambda t: t["total_bill"] < 10.5),
        (
            Filter(column="day", op="in", value=["sat", "Sun"]),
            lambda t: t["day"].isin(["Sat", "Sun"]),
        ),
        (Filter(column="day", op="not_in", value=["Sat"]), lambda t: t["day"] != "Sat"),
        (Filter(column="time", op="contains", value="UNC"), lambda t: t["time"] == "Lunch"),
        (Filter(column="tip", op="between", value=[2, 3]), lambda t: t["tip"].between(2, 3)),
    ],
)
def test_filters(tips_table: Table, tips: pd.DataFrame, flt: Filter, mask: object) -> None:
    result = execute_spec(mean_tip(filters=[flt]), tips_table)
    kept = tips[mask(tips)]  # type: ignore[operator]
    assert result.kind == "scalar"
    assert result.rows_used == len(kept)
    assert result.value == pytest.approx(kept["tip"].mean())


def test_date_filters(stocks_table: Table, stocks: pd.DataFrame) -> None:
    spec = AnalysisSpec(
        aggregations=[Aggregation(func="mean", column="GOOG")],
        filters=[Filter(column="date", value=2019)],
    )
    assert execute_spec(spec, stocks_table).value == pytest.approx(
        stocks[stocks["date"].dt.year == 2019]["GOOG"].mean()
    )
    spec.filters = [Filter(column="date", op="between", value=["2018-03-01", "2018-06-30"])]
    window = stocks[(stocks["date"] >= "2018-03-01") & (stocks["date"] <= "2018-06-30")]
    result = execute_spec(spec, stocks_table)
    assert result.rows_used == len(window)
    assert result.value == pytest.approx(window["GOOG"].mean())
    spec.filters = [Filter(column="date", value="2018-01-08")]
    assert execute_spec(spec, stocks_table).rows_used == 1


def test_dates_stored_as_text_still_compare(table_of: TableOf) -> None:
    raw = px.data.stocks()  # ISO date strings, not parsed
    spec = AnalysisSpec(
        aggregations=[Aggregation(func="mean", column="AAPL")],
        time_bucket=TimeBucket(column="date", freq="year"),
        filters=[Filter(column="date", op=">=", value=2019)],
    )
    result = execute_spec(spec, table_of("stocks.csv", raw))
    dates = pd.to_datetime(raw["date"])
    assert result.table is not None and len(result.table) == 1
    assert result.table["mean_AAPL"].iloc[0] == pytest.approx(
        raw[dates.dt.year >= 2019]["AAPL"].mean()
    )


def test_no_matching_rows_is_a_result_not_a_crash(tips_table: Table) -> None:
    result = execute_spec(mean_tip(filters=[Filter(column="time", value="Breakfast")]), tips_table)
    assert result.kind == "none"
    assert result.rows_used == 0
    assert any("left no rows" in note and "Breakfast" in note for note in result.notes)
    assert result.figure is None


def test_unknown_column_is_an_input_error(tips_table: Table) -> None:
    spec = AnalysisSpec(aggregations=[Aggregation(func="mean", column="salary")])
    with pytest.raises(InputError, match="salary"):
        execute_spec(spec, tips_table)


def test_text_column_cannot_be_averaged(tips_table: Table) -> None:
    with pytest.raises(InputError):
        execute_spec(
            AnalysisSpec(aggregations=[Aggregation(func="mean", column="day")]), tips_table
        )


def test_missing_values_are_reported(tips: pd.DataFrame, table_of: TableOf) -> None:
    holes = tips.copy()
    holes.loc[[0, 5, 9], "tip"] = np.nan
    result = execute_spec(mean_tip(group_by=["day"]), table_of("holes.csv", holes))
    assert "3 rows with missing tip were ignored." in result.notes
    assert result.table is not None
    expected = holes.groupby("day")["tip"].mean()
    assert dict(zip(result.table["day"], result.table["mean_tip"], strict=True)) == pytest.approx(
        expected.to_dict()
    )


def test_several_aggregates_without_groups_make_one_row(
    tips_table: Table, tips: pd.DataFrame
) -> None:
    spec = AnalysisSpec(
        aggregations=[
            Aggregation(func="mean", column="tip"),
            Aggregation(func="max", column="tip"),
            Aggregation(func="count"),
        ]
    )
    result = execute_spec(spec, tips_table)
    assert result.kind == "table" and result.table is not None
    row = result.table.iloc[0].to_dict()
    assert row == pytest.approx(
        {"mean_tip": tips["tip"].mean(), "max_tip": tips["tip"].max(), "count": 244}
    )
    assert result.figure is None


def test_scalar_is_plain_python(tips_table: Table) -> None:
    result = execute_spec(AnalysisSpec(aggregations=[Aggregation(func="count")]), tips_table)
    assert type(result.value) is int
    assert result.value_label == "number of rows"
    json.dumps(result.value)


def test_group_order_weekdays_follow_the_calendar(tips_table: Table) -> None:
    result = execute_spec(mean_tip(group_by=["day"]), tips_table)
    assert result.table is not None and result.table["day"].tolist() == [
        "Thur",
        "Fri",
        "Sat",
        "Sun",
    ]


def test_group_order_categorical_keeps_its_categories(
    tips: pd.DataFrame, table_of: TableOf
) -> None:
    frame = tips.assign(day=pd.Categorical(tips["day"], categories=["Sun", "Sat", "Fri", "Thur"]))
    result = execute_spec(mean_tip(group_by=["day"]), table_of("cat.csv", frame))
    assert result.table is not None and result.table["day"].tolist() == [
        "Sun",
        "Sat",
        "Fri",
        "Thur",
    ]


def test_group_order_otherwise_biggest_first(tips_table: Table, tips: pd.DataFrame) -> None:
    result = execute_spec(mean_tip(group_by=["sex"]), tips_table)
    expected = tips.groupby("sex")["tip"].mean().sort_values(ascending=False)
    assert result.table is not None and result.table["sex"].tolist() == expected.index.tolist()


def test_sort_by_source_column_and_limit(tips_table: Table, tips: pd.DataFrame) -> None:
    spec = AnalysisSpec(
        aggregations=[Aggregation(func="sum", column="tip")],
        group_by=["day"],
        sort=Sort(column="tip", descending=False),
        limit=2,
    )
    result = execute_spec(spec, tips_table)
    expected = tips.groupby("day")["tip"].sum().nsmallest(2)
    assert result.table is not None and result.table["day"].tolist() == expected.index.tolist()


@pytest.mark.parametrize(
    ("freq", "rule"), [("day", "D"), ("week", "W-SUN"), ("quarter", "QS"), ("year", "YS")]
)
def test_time_buckets(stocks_table: Table, stocks: pd.DataFrame, freq: str, rule: str) -> None:
    spec = AnalysisSpec(
        aggregations=[Aggregation(func="max", column="FB")],
        time_bucket=TimeBucket(column="date", freq=freq),
    )
    result = execute_spec(spec, stocks_table)
    expected = stocks.set_index("date")["FB"].resample(rule).max().dropna()
    assert result.table is not None
    assert result.table["max_FB"].tolist() == pytest.approx(expected.tolist())


def test_year_bucket_on_integer_year_is_identity(
    gapminder_table: Table, gapminder: pd.DataFrame
) -> None:
    spec = AnalysisSpec(
        aggregations=[Aggregation(func="sum", column="pop")],
        time_bucket=TimeBucket(column="year", freq="year"),
    )
    result = execute_spec(spec, gapminder_table)
    expected = gapminder.groupby("year")["pop"].sum()
    assert result.table is not None
    assert result.table["year"].tolist() == expected.index.tolist()
    assert result.table["sum_pop"].tolist() == expected.tolist()
    spec.time_bucket = TimeBucket(column="year", freq="month")
    with pytest.raises(InputError):
        execute_spec(spec, gapminder_table)


def test_rows_operation(gapminder_table: Table, gapminder: pd.DataFrame) -> None:
    spec = AnalysisSpec(
        operation="rows",
        filters=[Filter(column="country", value="Japan")],
        columns=["year", "lifeExp"],
        sort=Sort(column="lifeExp"),
        limit=3,
    )
    result = execute_spec(spec, gapminder_table)
    expected = gapminder[gapminder["country"] == "Japan"].nlargest(3, "lifeExp")
    assert result.table is not None
    assert result.table["year"].tolist() == expected["year"].tolist()


def test_correlation_matrix(tips_table: Table, tips: pd.DataFrame) -> None:
    result = execute_spec(AnalysisSpec(operation="correlation"), tips_table)
    expected = tips[["total_bill", "tip", "size"]].corr()
    assert result.table is not None
    matrix = result.table.set_index("column")
    assert np.allclose(matrix.to_numpy(), expected.to_numpy())
    assert result.figure is not None and result.figure.data[0].type == "heatmap"


def test_describe(tips_table: Table, tips: pd.DataFrame) -> None:
    result = execute_spec(AnalysisSpec(operation="describe", columns=["tip"]), tips_table)
    assert result.table is not None
    assert result.table.loc[0, "mean"] == pytest.approx(tips["tip"].mean())


def test_distribution_of_a_category_counts_it(tips_table: Table, tips: pd.DataFrame) -> None:
    result = execute_spec(AnalysisSpec(operation="distribution", columns=["day"]), tips_table)
    assert result.table is not None
    assert dict(zip(result.table["day"], result.table["count"], strict=True)) == (
        tips["day"].value_counts().to_dict()
    )
    assert result.figure is not None and result.figure.data[0].type == "bar"
