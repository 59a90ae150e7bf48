"""What a column *is* for analysis purposes, shared by planner, executor and figures.

Dtypes alone mislead: a ``year`` column is an integer but behaves like time; a
``smoker`` column of "Yes"/"No" strings is a boolean; ISO date strings are dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from pandas.api import types as ptypes

from core.analysis.lexicon import (
    ABBREVIATIONS,
    AFFIRMATIVE,
    BOOLEAN_WORDS,
    CAMEL_BOUNDARY,
    words_of,
)

Role = Literal["numeric", "integer", "year", "datetime", "boolean", "category"]

_YEAR_WORDS = frozenset({"year", "yr", "yyyy", "fy"})
_DATE_SAMPLE = 50


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    role: Role
    truthy: object = None
    """For boolean-like columns: the value meaning "yes" (``True`` or e.g. ``"Yes"``)."""
    falsy: object = None
    low: float | None = None
    """For numeric columns: the smallest and largest values (to tell "over 2000" apart)."""
    high: float | None = None

    def holds(self, number: float) -> bool:
        """Whether ``number`` lies within the column's observed range."""
        return self.low is not None and self.high is not None and self.low <= number <= self.high

    @property
    def is_measure(self) -> bool:
        """Numbers that are summed/averaged (years are time, not measures)."""
        return self.role in ("numeric", "integer")


def is_year_like(name: str, series: pd.Series) -> bool:
    """An integer column named like a year whose values are plausible years."""
    if not ptypes.is_integer_dtype(series) or ptypes.is_bool_dtype(series):
        return False
    if not _YEAR_WORDS & set(words_of(name)):
        return False
    non_null = series.dropna()
    return bool(len(non_null)) and bool(non_null.between(1000, 2999).all())


def parse_dates(series: pd.Series) -> pd.Series | None:
    """``series`` as datetimes if it is (or fully parses as) dates, else ``None``."""
    if ptypes.is_datetime64_any_dtype(series):
        return series
    if not (ptypes.is_string_dtype(series) or ptypes.is_object_dtype(series)):
        return None
    non_null = series.dropna()
    if not len(non_null):
        return None
    sample = non_null.head(_DATE_SAMPLE).astype(str)
    # Only unambiguous ISO-like strings: "03/04/2020" is a guess we do not make.
    if not sample.str.fullmatch(r"\d{4}-\d{2}(-\d{2})?([ T][\d:.]+)?(Z|[+-]\d{2}:?\d{2})?").all():
        return None
    parsed = pd.to_datetime(series, errors="coerce", format="ISO8601")
    if parsed.notna().sum() < len(non_null):
        return None
    return parsed


def _boolean_values(series: pd.Series) -> tuple[object, object] | None:
    if ptypes.is_bool_dtype(series):
        return True, False
    if not (ptypes.is_string_dtype(series) or ptypes.is_object_dtype(series)):
        return None
    values = [v for v in series.dropna().unique()[:3] if isinstance(v, str)]
    if len(values) != 2 or not all(v.strip().lower() in BOOLEAN_WORDS for v in values):
        return None
    yes = [v for v in values if v.strip().lower() in AFFIRMATIVE]
    no = [v for v in values if v.strip().lower() not in AFFIRMATIVE]
    if len(yes) != 1 or len(no) != 1:
        return None
    return yes[0], no[0]


def describe_column(name: str, series: pd.Series) -> ColumnInfo:
    boolean = _boolean_values(series)
    if boolean is not None:
        return ColumnInfo(name, "boolean", truthy=boolean[0], falsy=boolean[1])
    if is_year_like(name, series):
        return ColumnInfo(name, "year")
    if ptypes.is_numeric_dtype(series):
        low, high = series.min(), series.max()
        role: Role = "integer" if ptypes.is_integer_dtype(series) else "numeric"
        if pd.isna(low) or pd.isna(high):
            return ColumnInfo(name, role)
        return ColumnInfo(name, role, low=float(low), high=float(high))
    if parse_dates(series) is not None:
        return ColumnInfo(name, "datetime")
    return ColumnInfo(name, "category")


def describe_columns(frame: pd.DataFrame) -> dict[str, ColumnInfo]:
    return {str(c): describe_column(str(c), frame[c]) for c in frame.columns}


_FUNC_WORDS = {"sum": "total", "nunique": "distinct", "std": "std dev", "avg": "average"}
_VOWELS = frozenset("aeiouy")


def humanise(name: str) -> str:
    """Axis-label text: ``total_bill`` → "Total bill", ``mean_lifeExp`` → "Mean life expectancy"."""
    if name.isupper() or not name:
        return name  # tickers and codes (GOOG, ISO) stay as written
    # Split like words_of, but keep the case of all-caps parts ("mean_GOOG").
    parts = [p for p in re.split(r"[\s_\-]+", CAMEL_BOUNDARY.sub(" ", name)) if p]
    words = [p if p.isupper() and len(p) > 1 else p.lower() for p in parts]
    if not words:
        return name
    if words[0] in _FUNC_WORDS:
        words[0] = _FUNC_WORDS[words[0]]
    out = []
    for word in words:
        expansions = ABBREVIATIONS.get(word)
        if expansions and word not in ("gdp", "no", "num", "avg"):
            word = expansions[0]
        if len(word) >= 2 and word.isalpha() and not _VOWELS & set(word):
            word = word.upper()  # "gdp" → "GDP"
        out.append(word)
    text = " ".join(out)
    return text[0].upper() + text[1:]


_WEEKDAYS = (
    ("mon", "monday"),
    ("tue", "tues", "tuesday"),
    ("wed", "weds", "wednesday"),
    ("thu", "thur", "thurs", "thursday"),
    ("fri", "friday"),
    ("sat", "saturday"),
    ("sun", "sunday"),
)
_MONTHS = (
    ("jan", "january"),
    ("feb", "february"),
    ("mar", "march"),
    ("apr", "april"),
    ("may",),
    ("jun", "june"),
    ("jul", "july"),
    ("aug", "august"),
    ("sep", "sept", "september"),
    ("oct", "october"),
    ("nov", "november"),
    ("dec", "december"),
)


def calendar_rank(values: pd.Series) -> pd.Series | None:
    """Positions of weekday or month names in calendar order, if every value is one."""
    for names in (_WEEKDAYS, _MONTHS):
        rank = {alias: i for i, group in enumerate(names) for alias in group}
        keys = values.astype(str).str.strip().str.lower()
        if len(keys) and keys.isin(list(rank)).all():
            return keys.map(rank)
    return None
