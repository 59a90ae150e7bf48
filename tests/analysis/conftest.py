"""Real datasets shipped with plotly, wrapped as ingested tables."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.express as px
import pytest

from core.datasets.models import Table


def make_table(name: str, frame: pd.DataFrame) -> Table:
    return Table(name=name, frame=frame, source_file=name, sheet=None, content_hash=name)


@pytest.fixture
def tips() -> pd.DataFrame:
    return px.data.tips()


@pytest.fixture
def gapminder() -> pd.DataFrame:
    return px.data.gapminder()


@pytest.fixture
def stocks() -> pd.DataFrame:
    frame = px.data.stocks()
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@pytest.fixture
def tips_table(tips: pd.DataFrame) -> Table:
    return make_table("tips.csv", tips)


@pytest.fixture
def gapminder_table(gapminder: pd.DataFrame) -> Table:
    return make_table("gapminder.csv", gapminder)


@pytest.fixture
def stocks_table(stocks: pd.DataFrame) -> Table:
    return make_table("stocks.csv", stocks)


@pytest.fixture
def table_of() -> Callable[[str, pd.DataFrame], Table]:
    """Wrap any frame as a Table (for hand-made edge-case data)."""
    return make_table
