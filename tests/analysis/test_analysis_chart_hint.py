"""`likely_chart` (the CLI's early browser start) agrees with what execution draws."""

from __future__ import annotations

import hashlib

import pandas as pd
import plotly.express as px
import pytest

from core.analysis.execute import execute_spec
from core.analysis.figures import likely_chart
from core.analysis.planner import plan_question
from core.datasets.models import Table
from core.datasets.profile import profile_table


def _table(name: str, frame: pd.DataFrame) -> Table:
    digest = hashlib.sha256(frame.to_csv().encode()).hexdigest()
    return Table(name=name, frame=frame, source_file=name, sheet=None, content_hash=digest)


@pytest.mark.parametrize(
    ("dataset", "question"),
    [
        ("tips", "average tip by day"),
        ("tips", "how many rows are there"),
        ("tips", "which day has the highest total tips"),
        ("tips", "median tip for smokers vs non-smokers"),
        ("tips", "max total bill"),
        ("tips", "average tip for dinner"),
        ("tips", "distribution of total_bill"),
        ("gapminder", "total population by continent in 2007"),
        ("gapminder", "life expectancy of Japan in 2007"),
        ("gapminder", "top 5 countries by gdpPercap in 2007"),
        ("gapminder", "average lifeExp per year"),
    ],
)
def test_hint_matches_the_drawn_figure(dataset: str, question: str) -> None:
    table = _table(f"{dataset}.csv", getattr(px.data, dataset)())
    plan = plan_question(question, [table], [profile_table(table)])
    result = execute_spec(plan.spec, table)
    assert likely_chart(plan.spec) == (result.figure is not None)
