"""Profiles: the compact description of a table that planners see."""

from __future__ import annotations

import math

import pandas as pd
from pandas.api import types as ptypes

from core.datasets.models import ColumnKind, ColumnProfile, DatasetProfile, Table

_TOP_VALUES = 50
_CATEGORICAL_MAX_DISTINCT = 50


def _kind_of(series: pd.Series) -> ColumnKind:
    if ptypes.is_bool_dtype(series):
        return "boolean"
    if ptypes.is_datetime64_any_dtype(series):
        return "datetime"
    if ptypes.is_integer_dtype(series):
        return "integer"
    if ptypes.is_numeric_dtype(series):
        return "numeric"
    distinct = series.nunique(dropna=True)
    if distinct <= _CATEGORICAL_MAX_DISTINCT or distinct <= 0.05 * max(len(series), 1):
        return "categorical"
    return "text"


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def profile_column(name: str, series: pd.Series) -> ColumnProfile:
    """Describe one column: kind, null rate, distinct count and kind-specific summaries."""
    kind = _kind_of(series)
    rows = len(series)
    profile = ColumnProfile(
        name=name,
        kind=kind,
        dtype=str(series.dtype),
        null_rate=float(series.isna().mean()) if rows else 0.0,
        distinct=int(series.nunique(dropna=True)),
    )
    if kind in ("numeric", "integer"):
        profile.min = _finite(series.min())
        profile.max = _finite(series.max())
        profile.mean = _finite(series.mean())
        profile.std = _finite(series.std())
    elif kind == "datetime":
        non_null = series.dropna()
        if len(non_null):
            profile.start = pd.Timestamp(non_null.min()).isoformat()
            profile.end = pd.Timestamp(non_null.max()).isoformat()
    if kind in ("categorical", "boolean", "integer") and profile.distinct <= _TOP_VALUES:
        counts = series.dropna().astype(str).value_counts()
        profile.top_values = [str(v) for v in counts.index[:_TOP_VALUES]]
    return profile


def _json_safe(value: object) -> object:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def profile_table(table: Table, *, sample_rows: int = 5) -> DatasetProfile:
    """Profile every column of ``table`` and keep a few sample rows."""
    frame = table.frame
    samples = [
        {str(k): _json_safe(v) for k, v in row.items()}
        for row in frame.head(sample_rows).to_dict(orient="records")
    ]
    return DatasetProfile(
        name=table.name,
        content_hash=table.content_hash,
        rows=len(frame),
        columns=[profile_column(str(c), frame[c]) for c in frame.columns],
        sample_rows=samples,
    )
