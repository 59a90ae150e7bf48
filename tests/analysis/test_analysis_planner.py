"""The deterministic planner on real plotly datasets, checked against plain pandas."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.express as px
import pytest

from core.analysis.execute import execute_spec
from core.analysis.planner import Plan, plan_question
from core.analysis.result import AnalysisResult
from core.datasets.models import Table
from core.datasets.profile import profile_table
from core.errors import QuestionNotUnderstoodError

TableOf = Callable[[str, pd.DataFrame], Table]


def ask(question: str, *tables: Table) -> tuple[Plan, AnalysisResult]:
    plan = plan_question(question, list(tables), [profile_table(t) for t in tables])
    result = execute_spec(plan.spec, tables[plan.table_index])
    return plan, result


def as_dict(result: AnalysisResult, key: str | list[str], value: str) -> dict[object, float]:
    table = result.table
    assert result.kind == "table" and table is not None
    if isinstance(key, list):
        index: list[object] = list(table[key].itertuples(index=False, name=None))
    else:
        index = table[key].tolist()
    return dict(zip(index, table[value].tolist(), strict=True))


def approx_dict(expected: pd.Series) -> dict[object, object]:
    return {k: pytest.approx(v) for k, v in expected.to_dict().items()}


# --- the phrasings the issue requires -------------------------------------------------


def test_average_tip_by_day(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("average tip by day", tips_table)
    assert plan.spec.group_by == ["day"]
    assert [(a.func, a.column) for a in plan.spec.aggregations] == [("mean", "tip")]
    assert as_dict(result, "day", "mean_tip") == approx_dict(tips.groupby("day")["tip"].mean())
    assert plan.explanation == "mean of tip grouped by day"
    assert result.figure is not None and result.figure.data[0].type == "bar"
    assert result.table is not None
    assert list(result.figure.data[0].x) == result.table["day"].tolist()
    assert result.figure.layout.title.text == "average tip by day"


def test_how_many_rows(tips_table: Table, tips: pd.DataFrame) -> None:
    _, result = ask("how many rows are there", tips_table)
    assert result.kind == "scalar"
    assert result.value == len(tips) == 244
    assert result.figure is None


def test_which_day_has_the_highest_total_tips(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("which day has the highest total tips", tips_table)
    sums = tips.groupby("day")["tip"].sum()
    assert plan.spec.sort is not None and plan.spec.sort.descending
    assert plan.spec.limit == 1
    assert result.table is not None and len(result.table) == 1
    assert result.table["day"].iloc[0] == sums.idxmax() == "Sat"
    assert result.table["sum_tip"].iloc[0] == pytest.approx(sums.max())


def test_median_tip_smokers_vs_non_smokers(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("median tip for smokers vs non-smokers", tips_table)
    assert plan.spec.group_by == ["smoker"]
    assert not plan.spec.filters
    expected = tips.groupby("smoker")["tip"].median()
    assert as_dict(result, "smoker", "median_tip") == approx_dict(expected)


def test_max_total_bill(tips_table: Table, tips: pd.DataFrame) -> None:
    _, result = ask("max total bill", tips_table)
    assert result.kind == "scalar"
    assert result.value == pytest.approx(tips["total_bill"].max())
    assert result.value == pytest.approx(50.81)
    assert result.value_label == "maximum of total_bill"


def test_average_tip_for_dinner(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("average tip for dinner", tips_table)
    dinner = tips[tips["time"] == "Dinner"]
    assert [(f.column, f.op, f.value) for f in plan.spec.filters] == [("time", "==", "Dinner")]
    assert result.kind == "scalar"
    assert result.value == pytest.approx(dinner["tip"].mean())
    assert result.rows_in == len(tips) and result.rows_used == len(dinner)


def test_distribution_of_total_bill(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("distribution of total_bill", tips_table)
    assert plan.spec.operation == "distribution"
    assert result.figure is not None and result.figure.data[0].type == "histogram"
    assert sorted(result.figure.data[0].x) == sorted(tips["total_bill"].tolist())


def test_total_population_by_continent_in_2007(
    gapminder_table: Table, gapminder: pd.DataFrame
) -> None:
    _, result = ask("total population by continent in 2007", gapminder_table)
    expected = gapminder[gapminder["year"] == 2007].groupby("continent")["pop"].sum()
    assert as_dict(result, "continent", "sum_pop") == expected.to_dict()
    assert result.table is not None
    assert result.table["sum_pop"].tolist() == sorted(expected.tolist(), reverse=True)
    assert result.figure is not None and result.figure.data[0].type == "bar"
    assert list(result.figure.data[0].y) == result.table["sum_pop"].tolist()


def test_life_expectancy_of_japan_in_2007(gapminder_table: Table, gapminder: pd.DataFrame) -> None:
    plan, result = ask("life expectancy of Japan in 2007", gapminder_table)
    row = gapminder[(gapminder["country"] == "Japan") & (gapminder["year"] == 2007)]
    assert {(f.column, f.value) for f in plan.spec.filters} == {
        ("country", "Japan"),
        ("year", 2007),
    }
    assert result.kind == "scalar"
    assert result.value == pytest.approx(row["lifeExp"].iloc[0])
    assert result.value == pytest.approx(82.603)


def test_top_5_countries_by_gdp_in_2007(gapminder_table: Table, gapminder: pd.DataFrame) -> None:
    _, result = ask("top 5 countries by gdpPercap in 2007", gapminder_table)
    expected = gapminder[gapminder["year"] == 2007].nlargest(5, "gdpPercap")
    assert result.table is not None
    assert result.table["country"].tolist() == expected["country"].tolist()
    assert result.table["gdpPercap"].tolist() == pytest.approx(expected["gdpPercap"].tolist())


def test_average_life_expectancy_per_year(gapminder_table: Table, gapminder: pd.DataFrame) -> None:
    _, result = ask("average lifeExp per year", gapminder_table)
    expected = gapminder.groupby("year")["lifeExp"].mean()
    assert result.table is not None
    assert result.table["year"].tolist() == expected.index.tolist()
    assert result.table["mean_lifeExp"].tolist() == pytest.approx(expected.tolist())
    figure = result.figure
    assert figure is not None and figure.data[0].type == "scatter"
    assert "lines" in figure.data[0].mode  # a line chart
    assert list(figure.data[0].x) == expected.index.tolist()


# --- further phrasings ------------------------------------------------------------------


def test_mean_total_bill_per_sex(tips_table: Table, tips: pd.DataFrame) -> None:
    _, result = ask("mean total bill per sex", tips_table)
    expected = tips.groupby("sex")["total_bill"].mean()
    assert as_dict(result, "sex", "mean_total_bill") == approx_dict(expected)


def test_count_of_rows_by_day(tips_table: Table, tips: pd.DataFrame) -> None:
    _, result = ask("count of rows by day", tips_table)
    assert as_dict(result, "day", "count") == tips.groupby("day").size().to_dict()


def test_sum_of_tip_by_day_and_time(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("sum of tip by day and time", tips_table)
    assert plan.spec.group_by == ["day", "time"]
    expected = tips.groupby(["day", "time"])["tip"].sum()
    assert as_dict(result, ["day", "time"], "sum_tip") == approx_dict(expected)
    assert result.figure is not None
    assert {trace.name for trace in result.figure.data} == {"Dinner", "Lunch"}  # time as colour


def test_how_many_countries(gapminder_table: Table, gapminder: pd.DataFrame) -> None:
    _, result = ask("how many countries are there", gapminder_table)
    assert result.kind == "scalar"
    assert result.value == gapminder["country"].nunique()


def test_monthly_average_close_of_goog(stocks_table: Table, stocks: pd.DataFrame) -> None:
    plan, result = ask("monthly average close of GOOG", stocks_table)
    assert plan.spec.time_bucket is not None and plan.spec.time_bucket.freq == "month"
    expected = stocks.set_index("date")["GOOG"].resample("MS").mean()
    assert result.table is not None
    assert result.table["date"].tolist() == expected.index.tolist()
    assert result.table["mean_GOOG"].tolist() == pytest.approx(expected.tolist())
    assert result.figure is not None and "lines" in result.figure.data[0].mode


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("average tip on saturday", lambda t: t[t["day"] == "Sat"]["tip"].mean()),
        ("average tip for women", lambda t: t[t["sex"] == "Female"]["tip"].mean()),
        ("average tip not on sunday", lambda t: t[t["day"] != "Sun"]["tip"].mean()),
        ("how many smokers", lambda t: int((t["smoker"] == "Yes").sum())),
        ("how many dinners", lambda t: int((t["time"] == "Dinner").sum())),
        ("average tip where total bill over 20", lambda t: t[t["total_bill"] > 20]["tip"].mean()),
        ("how many tips between 2 and 3", lambda t: int(t["tip"].between(2, 3).sum())),
        ("highest tip", lambda t: t["tip"].max()),
        ("average tip where day = Sat", lambda t: t[t["day"] == "Sat"]["tip"].mean()),
        ("average tip for size 4", lambda t: t[t["size"] == 4]["tip"].mean()),
        ("number of distinct days", lambda t: t["day"].nunique()),
        ("standard deviation of tip", lambda t: t["tip"].std()),
        ("correlation between tip and total bill", lambda t: t["tip"].corr(t["total_bill"])),
        (
            "how many rows for lunch on friday",
            lambda t: int(((t["time"] == "Lunch") & (t["day"] == "Fri")).sum()),
        ),
    ],
)
def test_scalar_phrasings(
    tips_table: Table, tips: pd.DataFrame, question: str, expected: Callable[[pd.DataFrame], float]
) -> None:
    _, result = ask(question, tips_table)
    assert result.kind == "scalar"
    assert result.value == pytest.approx(expected(tips))


def test_top_3_days_by_total_tips(tips_table: Table, tips: pd.DataFrame) -> None:
    _, result = ask("top 3 days by total tips", tips_table)
    expected = tips.groupby("day")["tip"].sum().nlargest(3)
    assert as_dict(result, "day", "sum_tip") == approx_dict(expected)
    assert result.table is not None and result.table["day"].tolist() == expected.index.tolist()


def test_which_continent_has_highest_average_life_expectancy(
    gapminder_table: Table, gapminder: pd.DataFrame
) -> None:
    _, result = ask(
        "which continent has the highest average life expectancy in 2007", gapminder_table
    )
    means = gapminder[gapminder["year"] == 2007].groupby("continent")["lifeExp"].mean()
    assert result.table is not None
    assert result.table["continent"].tolist() == [means.idxmax()]


def test_year_range_is_not_read_as_a_measure_range(
    gapminder_table: Table, gapminder: pd.DataFrame
) -> None:
    plan, result = ask("average lifeExp between 1990 and 2000 by continent", gapminder_table)
    assert [(f.column, f.op) for f in plan.spec.filters] == [("year", "between")]
    expected = (
        gapminder[gapminder["year"].between(1990, 2000)].groupby("continent")["lifeExp"].mean()
    )
    assert as_dict(result, "continent", "mean_lifeExp") == approx_dict(expected)


def test_lunch_vs_dinner_compares_both(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("average tip for lunch vs dinner", tips_table)
    assert plan.spec.group_by == ["time"]
    assert as_dict(result, "time", "mean_tip") == approx_dict(tips.groupby("time")["tip"].mean())


def test_most_common_day(tips_table: Table, tips: pd.DataFrame) -> None:
    _, result = ask("most common day", tips_table)
    assert result.table is not None
    assert result.table["day"].tolist() == [tips["day"].value_counts().idxmax()]


def test_scatter_of_two_measures(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("tip vs total bill", tips_table)
    assert plan.spec.chart is not None and plan.spec.chart.kind == "scatter"
    assert result.figure is not None and result.figure.data[0].mode == "markers"
    assert list(result.figure.data[0].x) == tips["total_bill"].tolist()
    assert list(result.figure.data[0].y) == tips["tip"].tolist()


def test_box_plot_by_group(tips_table: Table) -> None:
    _, result = ask("box plot of tip by day", tips_table)
    assert result.figure is not None
    assert {trace.type for trace in result.figure.data} == {"box"}
    assert {trace.name for trace in result.figure.data} == {"Thur", "Fri", "Sat", "Sun"}


def test_requested_chart_kind_is_used(tips_table: Table) -> None:
    plan, result = ask("average tip by day as a line chart", tips_table)
    assert plan.spec.chart is not None and plan.spec.chart.kind == "line"
    assert result.figure is not None and "lines" in result.figure.data[0].mode


def test_picks_the_table_the_question_names(gapminder_table: Table, tips_table: Table) -> None:
    plan, _ = ask("average tip by day", gapminder_table, tips_table)
    assert plan.table_index == 1
    assert "tips.csv" in plan.explanation


def test_ambiguous_table_choice_is_said(gapminder_table: Table, tips_table: Table) -> None:
    plan, result = ask("how many rows are there", gapminder_table, tips_table)
    assert plan.table_index == 0
    assert "first of several" in plan.explanation
    assert result.value == len(gapminder_table.frame)


def test_yes_no_column_in_a_group_list_is_a_key(tips_table: Table, tips: pd.DataFrame) -> None:
    plan, result = ask("average tip by day and smoker", tips_table)
    assert plan.spec.group_by == ["day", "smoker"] and not plan.spec.filters
    expected = tips.groupby(["day", "smoker"])["tip"].mean()
    assert as_dict(result, ["day", "smoker"], "mean_tip") == approx_dict(expected)


def test_count_with_a_yes_no_filter_by_group(tips_table: Table, tips: pd.DataFrame) -> None:
    _, result = ask("how many smokers by day", tips_table)
    expected = tips[tips["smoker"] == "Yes"].groupby("day").size()
    assert as_dict(result, "day", "count") == expected.to_dict()


def test_value_qualified_by_its_column(table_of: TableOf) -> None:
    medals = px.data.medals_long()
    table = table_of("medals.csv", medals)
    plan, result = ask("total count of gold medals", table)
    assert [(f.column, f.value) for f in plan.spec.filters] == [("medal", "gold")]
    assert result.value == medals[medals["medal"] == "gold"]["count"].sum()


def test_counting_rows_that_already_hold_counts_is_refused(table_of: TableOf) -> None:
    table = table_of("medals.csv", px.data.medals_long())
    with pytest.raises(QuestionNotUnderstoodError, match="count"):
        ask("how many gold medals", table)


def test_column_named_total_reads_as_a_sum(table_of: TableOf) -> None:
    sales = pd.DataFrame(
        {
            "Order Date": pd.to_datetime(["2023-01-05", "2023-02-11", "2023-02-20", "2024-01-09"]),
            "Region": ["North", "South", "North", "South"],
            "Total Sales": [100.0, 250.5, 19.5, 1200.0],
        }
    )
    table = table_of("sales.xlsx [Q1]", sales)
    _, result = ask("total sales by region in 2023", table)
    in_2023 = sales[sales["Order Date"].dt.year == 2023]
    assert as_dict(result, "Region", "sum_Total Sales") == approx_dict(
        in_2023.groupby("Region")["Total Sales"].sum()
    )
    _, monthly = ask("monthly total sales", table)
    expected = sales.set_index("Order Date")["Total Sales"].resample("MS").sum()
    assert monthly.table is not None
    assert monthly.table["sum_Total Sales"].tolist() == pytest.approx(
        expected[expected > 0].tolist()
    )


def test_partial_names_never_point_at_dates(table_of: TableOf) -> None:
    frame = pd.DataFrame(
        {"order_date": pd.to_datetime(["2024-01-01", "2024-01-02"]), "qty": [1, 2]}
    )
    table = table_of("shop.csv", frame)
    with pytest.raises(QuestionNotUnderstoodError, match='"orders"'):
        ask("how many orders", table)


def test_a_year_after_an_integer_measure_is_the_year(
    gapminder_table: Table, gapminder: pd.DataFrame
) -> None:
    plan, result = ask("total pop in 2007", gapminder_table)
    assert [(f.column, f.value) for f in plan.spec.filters] == [("year", 2007)]
    assert result.value == gapminder[gapminder["year"] == 2007]["pop"].sum()
