"""Turn spec filters into boolean masks, never into query strings.

Text compares case-insensitively; numbers numerically; a date column compared
with a bare year (``2007`` or ``"2007"``) compares its calendar year, and with
``"2007-03"`` its month. Missing values never satisfy a filter, ``!=`` included.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
from pandas.api import types as ptypes

from core.analysis.columns import parse_dates
from core.analysis.spec import Filter, Scalar
from core.errors import InputError

_YEAR = re.compile(r"\d{4}")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def describe_filter(flt: Filter) -> str:
    """Readable ``country = Japan`` style text for notes and explanations."""
    op = {"==": "=", "in": "in", "not_in": "not in"}.get(flt.op, flt.op)
    if isinstance(flt.value, list):
        shown = ", ".join(str(v) for v in flt.value)
        if flt.op == "between" and len(flt.value) == 2:
            return f"{flt.column} between {flt.value[0]} and {flt.value[1]}"
        return f"{flt.column} {op} ({shown})"
    return f"{flt.column} {op} {flt.value}"


def _number(flt: Filter, value: Scalar) -> float:
    if isinstance(value, bool):
        raise InputError(f"`{flt.column}` is numeric; {value!r} is not a number.")
    try:
        return float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    except ValueError:
        raise InputError(f"`{flt.column}` is numeric; {value!r} is not a number.") from None


def _date_part(dates: pd.Series, value: Scalar) -> tuple[pd.Series, object]:
    """What to compare a date column with: years, months, days or instants."""
    text = str(value).strip()
    if (isinstance(value, int | float) and not isinstance(value, bool)) or _YEAR.fullmatch(text):
        return dates.dt.year, int(float(text))
    month = _MONTH.fullmatch(text)
    if month:
        return dates.dt.year * 100 + dates.dt.month, int(month[1]) * 100 + int(month[2])
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise InputError(f"{value!r} is not a date I can compare with.") from None
    if stamp.tz is None and getattr(dates.dt, "tz", None) is not None:
        stamp = stamp.tz_localize(dates.dt.tz)
    if stamp == stamp.normalize() and len(text) <= 10:
        return dates.dt.normalize(), stamp  # a calendar day matches any time that day
    return dates, stamp


def _compare(series: pd.Series, op: str, value: object) -> pd.Series:
    if op == "==":
        return series == value
    if op == "!=":
        return series != value
    if op == ">":
        return series > value
    if op == ">=":
        return series >= value
    if op == "<":
        return series < value
    return series <= value


def _equals(series: pd.Series, flt: Filter, value: Scalar) -> pd.Series:
    """Rows where ``series`` equals ``value`` under the column's own notion of equality."""
    return _ordered(series, flt, "==", value)


def _ordered(series: pd.Series, flt: Filter, op: str, value: Scalar) -> pd.Series:
    if ptypes.is_bool_dtype(series):
        truth = str(value).strip().lower() in ("true", "yes", "y", "1", "t")
        return _compare(series.astype("boolean"), op, truth).fillna(False).astype(bool)
    dates = parse_dates(series)
    if dates is not None:
        left, right = _date_part(dates, value)
        return _compare(left, op, right).fillna(False).astype(bool)
    if ptypes.is_numeric_dtype(series):
        return _compare(series, op, _number(flt, value)).fillna(False).astype(bool)
    if op not in ("==", "!="):
        raise InputError(f"`{flt.column}` holds text, so `{op}` cannot be used with it.")
    present = series.notna()
    text = series.astype(str).str.strip().str.casefold()
    same = text == str(value).strip().casefold()
    return present & (same if op == "==" else ~same)


def filter_mask(frame: pd.DataFrame, flt: Filter) -> pd.Series:
    """Boolean mask (aligned with ``frame``) of the rows that satisfy ``flt``."""
    series = frame[flt.column]
    values: Sequence[Scalar] = (
        flt.value if isinstance(flt.value, list) else [] if flt.value is None else [flt.value]
    )
    if flt.value is None and flt.op in ("==", "!="):
        return series.isna() if flt.op == "==" else series.notna()
    if flt.op in ("in", "not_in"):
        mask = pd.Series(False, index=frame.index)
        for value in values:
            mask |= _equals(series, flt, value)
        return mask if flt.op == "in" else (~mask & series.notna())
    if flt.op == "contains":
        needle = str(values[0]) if values else ""
        found = series.astype(str).str.contains(needle, case=False, regex=False)
        return found.fillna(False).astype(bool) & series.notna()
    if flt.op == "between":
        if len(values) != 2:
            raise InputError(f"`between` on `{flt.column}` needs exactly two values.")
        low = _ordered(series, flt, ">=", values[0])
        return low & _ordered(series, flt, "<=", values[1])
    if len(values) != 1:
        raise InputError(f"`{flt.op}` on `{flt.column}` needs exactly one value.")
    return _ordered(series, flt, flt.op, values[0])


def apply_filters(frame: pd.DataFrame, filters: Sequence[Filter]) -> pd.DataFrame:
    """The rows of ``frame`` that satisfy every filter."""
    mask = pd.Series(True, index=frame.index)
    for flt in filters:
        mask &= filter_mask(frame, flt)
    return frame[mask]
