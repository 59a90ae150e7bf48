"""The planner refuses rather than answering a different question."""

from __future__ import annotations

import pytest

from core.analysis.planner import plan_question
from core.datasets.models import Table
from core.datasets.profile import profile_table
from core.errors import InputError, QuestionNotUnderstoodError


def refusal(question: str, table: Table) -> str:
    with pytest.raises(QuestionNotUnderstoodError) as caught:
        plan_question(question, [table], [profile_table(table)])
    return caught.value.user_message


def test_unknown_columns_are_named(tips_table: Table) -> None:
    message = refusal("average salary by department", tips_table)
    assert '"salary"' in message and '"department"' in message
    assert "total_bill" in message and "tip" in message  # the columns it knows
    assert "Try, for example" in message


def test_off_topic_question(tips_table: Table) -> None:
    assert '"weather"' in refusal("what's the weather", tips_table)


def test_value_not_in_the_data(tips_table: Table) -> None:
    # Answering without the filter would be answering another question.
    assert '"breakfast"' in refusal("average tip for breakfast", tips_table)


@pytest.mark.parametrize(
    "question",
    [
        "tip by day",  # no aggregate: average? total?
        "average",  # of what
        "average tip in 2007",  # tips has no year
        "monthly average tip",  # tips has no date column
        "average price by day",  # "price" names no column here
        "average tip over time",
        "average tip by",
        "percentage of smokers",
        "",
    ],
)
def test_incomplete_or_unmappable(tips_table: Table, question: str) -> None:
    refusal(question, tips_table)


def test_ranking_over_repeated_entities_needs_an_aggregate(gapminder_table: Table) -> None:
    # Each country has 12 rows: "top 5 by gdpPercap" could mean latest, mean, max...
    message = refusal("top 5 countries by gdpPercap", gapminder_table)
    assert "several rows" in message


def test_highest_without_aggregate_over_groups(gapminder_table: Table) -> None:
    assert "several rows" in refusal("which continent has the highest population", gapminder_table)


def test_refusal_is_an_input_error(tips_table: Table) -> None:
    with pytest.raises(InputError):
        plan_question("average salary", [tips_table], [profile_table(tips_table)])


def test_no_tables() -> None:
    with pytest.raises(QuestionNotUnderstoodError):
        plan_question("average tip", [], [])


def test_every_table_refusing(gapminder_table: Table, tips_table: Table) -> None:
    with pytest.raises(QuestionNotUnderstoodError) as caught:
        plan_question(
            "average salary",
            [gapminder_table, tips_table],
            [profile_table(gapminder_table), profile_table(tips_table)],
        )
    assert "gapminder.csv" in caught.value.user_message
    assert "tips.csv" in caught.value.user_message
