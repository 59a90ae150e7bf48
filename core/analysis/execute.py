"""Run an :class:`AnalysisSpec` on a table with plain pandas.

No strings from the question are ever evaluated: filters are boolean masks
(:mod:`core.analysis.filters`), everything else is ordinary pandas calls. The
result carries its figure (:mod:`core.analysis.figures`) and notes for the user.
"""

from __future__ import annotations

import math

import pandas as pd
from pandas.api import types as ptypes

from core.analysis.columns import calendar_rank, describe_column, parse_dates
from core.analysis.figures import build_figure
from core.analysis.filters import apply_filters, describe_filter
from core.analysis.result import AnalysisResult
from core.analysis.spec import Aggregation, AnalysisSpec, TimeBucket
from core.datasets.models import Table
from core.errors import InputError

_FUNC_LABELS = {
    "count": "count",
    "sum": "sum",
    "mean": "mean",
    "median": "median",
    "min": "minimum",
    "max": "maximum",
    "nunique": "number of distinct",
    "std": "standard deviation",
}
_PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}


def aggregation_label(agg: Aggregation) -> str:
    """``mean of tip``, ``number of rows``, ``number of distinct country``."""
    if agg.column is None:
        return "number of rows"
    if agg.func == "nunique":
        return f"number of distinct {agg.column}"
    return f"{_FUNC_LABELS[agg.func]} of {agg.column}"


def check_columns(spec: AnalysisSpec, table: Table) -> None:
    known = [str(c) for c in table.frame.columns]
    missing = sorted(spec.referenced_columns() - set(known))
    if missing:
        listed = ", ".join(f"`{c}`" for c in missing)
        raise InputError(
            f"{table.name} has no column {listed}. Its columns are: {', '.join(known)}."
        )


def _plain(value: object) -> float | int | str | None:
    """A JSON-friendly Python scalar (numpy and pandas scalars unwrapped, NaN → None)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    item = getattr(value, "item", None)
    plain = item() if callable(item) else value
    if isinstance(plain, float) and not math.isfinite(plain):
        return None
    if isinstance(plain, bool):
        return int(plain)
    if isinstance(plain, int | float | str):
        return plain
    return str(plain)


def _bucket(frame: pd.DataFrame, bucket: TimeBucket) -> pd.DataFrame:
    """Replace the bucket column by the start of its calendar period."""
    series = frame[bucket.column]
    info = describe_column(bucket.column, series)
    if info.role == "year":
        if bucket.freq != "year":
            raise InputError(
                f"`{bucket.column}` holds years, so it cannot be split by {bucket.freq}."
            )
        return frame
    dates = parse_dates(series)
    if dates is None:
        raise InputError(
            f"`{bucket.column}` is not a date column, so it cannot be grouped by {bucket.freq}."
        )
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)  # periods are calendar periods in local time
    out = frame.copy()
    out[bucket.column] = dates.dt.to_period(_PERIODS[bucket.freq]).dt.start_time
    return out


def _check_numeric(frame: pd.DataFrame, agg: Aggregation) -> None:
    if agg.column is None or agg.func not in ("sum", "mean", "median", "std"):
        return
    if not ptypes.is_numeric_dtype(frame[agg.column]) or ptypes.is_bool_dtype(frame[agg.column]):
        raise InputError(
            f"`{agg.column}` is not numeric, so its {_FUNC_LABELS[agg.func]} is undefined."
        )


def _grouped_aggregate(frame: pd.DataFrame, keys: list[str], agg: Aggregation) -> pd.Series:
    grouped = frame.groupby(keys, observed=True, sort=True)
    if agg.column is None:
        return grouped.size()
    return grouped[agg.column].agg(agg.func)


def _scalar_aggregate(frame: pd.DataFrame, agg: Aggregation) -> object:
    if agg.column is None:
        return len(frame)
    return frame[agg.column].agg(agg.func)


def _order_groups(
    table: pd.DataFrame, spec: AnalysisSpec, keys: list[str], value: str
) -> pd.DataFrame:
    """Natural order for time, calendar, numeric and categorical keys; else biggest first."""
    first = table[keys[0]]
    role = describe_column(keys[0], first).role
    if spec.time_bucket is not None or role in ("year", "datetime", "integer", "numeric"):
        return table  # groupby already sorted the keys ascending
    if isinstance(first.dtype, pd.CategoricalDtype):
        return table  # the categories' own order (e.g. Thur, Fri, Sat, Sun)
    rank = calendar_rank(first)
    if rank is not None:
        ranked = table.assign(_rank=rank.to_numpy()).sort_values("_rank", kind="stable")
        return ranked.drop(columns="_rank")
    if len(keys) > 1:
        return table
    return table.sort_values(value, ascending=False, kind="stable")


def _resolve_sort_column(spec: AnalysisSpec, table: pd.DataFrame) -> str:
    assert spec.sort is not None
    name = spec.sort.column
    if name in table.columns:
        return name
    # "sort by tip" on an aggregate means the aggregated tip column.
    matches = [a.output_name for a in spec.aggregations if a.column == name]
    if len(matches) == 1:
        return matches[0]
    raise InputError(
        f"Cannot sort by `{name}`: the result has columns {', '.join(map(str, table.columns))}."
    )


def _sorted(table: pd.DataFrame, spec: AnalysisSpec) -> pd.DataFrame:
    if spec.sort is None:
        return table
    column = _resolve_sort_column(spec, table)
    return table.sort_values(
        column, ascending=not spec.sort.descending, kind="stable", na_position="last"
    )


def _aggregate(frame: pd.DataFrame, spec: AnalysisSpec, result: AnalysisResult) -> None:
    keys = list(spec.group_by)
    if spec.time_bucket and spec.time_bucket.column not in keys:
        keys.insert(0, spec.time_bucket.column)
    if spec.time_bucket:
        frame = _bucket(frame, spec.time_bucket)
    for key in keys:
        missing = int(frame[key].isna().sum())
        if missing:
            result.notes.append(f"{missing} rows with missing {key} were left out of the groups.")
    for agg in spec.aggregations:
        if agg.column is not None and agg.func != "count":
            missing = int(frame[agg.column].isna().sum())
            if missing:
                result.notes.append(f"{missing} rows with missing {agg.column} were ignored.")
    for agg in spec.aggregations:
        _check_numeric(frame, agg)
    if not keys:
        values = {a.output_name: _plain(_scalar_aggregate(frame, a)) for a in spec.aggregations}
        result.table = pd.DataFrame([values])
        if len(spec.aggregations) == 1:
            only = spec.aggregations[0]
            result.value = values[only.output_name]
            result.value_label = aggregation_label(only)
            if result.value is None:
                result.kind = "none"
                result.notes.append(f"There are no values of {only.column} to compute with.")
                return
            result.kind = "scalar"
        else:
            result.kind = "table"
        return
    parts = {a.output_name: _grouped_aggregate(frame, keys, a) for a in spec.aggregations}
    table = pd.concat(parts, axis=1).reset_index()
    first_value = spec.aggregations[0].output_name
    table = _sorted(table, spec) if spec.sort else _order_groups(table, spec, keys, first_value)
    if spec.limit:
        table = table.head(spec.limit)
    result.kind = "table"
    result.table = table.reset_index(drop=True)


def _rows(frame: pd.DataFrame, spec: AnalysisSpec, result: AnalysisResult) -> None:
    columns = list(spec.columns) or [str(c) for c in frame.columns]
    table = frame
    if spec.sort:
        if spec.sort.column not in frame.columns:
            raise InputError(f"Cannot sort by `{spec.sort.column}`: there is no such column.")
        table = table.sort_values(
            spec.sort.column, ascending=not spec.sort.descending, kind="stable", na_position="last"
        )
    table = table[columns]
    if spec.limit:
        table = table.head(spec.limit)
    table = table.reset_index(drop=True)
    result.table = table
    result.kind = "table"
    if table.shape == (1, 1):
        # A lookup that lands on one cell is an answer, not a table.
        result.kind = "scalar"
        result.value = _plain(table.iat[0, 0])
        result.value_label = columns[0]


def _correlation(frame: pd.DataFrame, spec: AnalysisSpec, result: AnalysisResult) -> None:
    numeric = [
        str(c)
        for c in frame.columns
        if ptypes.is_numeric_dtype(frame[c]) and not ptypes.is_bool_dtype(frame[c])
    ]
    columns = list(spec.columns) or numeric
    not_numeric = [c for c in columns if c not in numeric]
    if not_numeric:
        raise InputError(
            f"Correlation needs numeric columns; {', '.join(not_numeric)} is not numeric."
        )
    if len(columns) < 2:
        raise InputError("Correlation needs at least two numeric columns.")
    matrix = frame[columns].corr()
    result.table = matrix.rename_axis("column").reset_index()
    result.kind = "table"
    if len(columns) == 2:
        result.kind = "scalar"
        result.value = _plain(matrix.iat[0, 1])
        result.value_label = f"correlation of {columns[0]} and {columns[1]}"
        if result.value is None:
            result.kind = "none"
            result.notes.append("The correlation is undefined (a column has no variation).")


def _describe(frame: pd.DataFrame, spec: AnalysisSpec, result: AnalysisResult) -> None:
    columns = list(spec.columns) or [str(c) for c in frame.columns]
    stats = frame[columns].describe(include="all").transpose()
    result.table = stats.rename_axis("column").reset_index()
    result.kind = "table"


def _distribution(frame: pd.DataFrame, spec: AnalysisSpec, result: AnalysisResult) -> None:
    column = spec.columns[0]
    keys = [k for k in spec.group_by if k != column]
    data = frame[[*keys, column]].dropna()
    dropped = len(frame) - len(data)
    if dropped:
        result.notes.append(f"{dropped} rows with missing {column} were ignored.")
    if not ptypes.is_numeric_dtype(data[column]) and parse_dates(data[column]) is None:
        # The distribution of a category is its counts.
        counts = data.groupby([*keys, column], observed=True).size().rename("count").reset_index()
        result.table = counts.sort_values("count", ascending=False, kind="stable").reset_index(
            drop=True
        )
    else:
        result.table = data.reset_index(drop=True)
    result.kind = "table"


_OPERATIONS = {
    "aggregate": _aggregate,
    "rows": _rows,
    "correlation": _correlation,
    "describe": _describe,
    "distribution": _distribution,
}


def execute_spec(spec: AnalysisSpec, table: Table) -> AnalysisResult:
    """Compute ``spec`` on ``table``; the figure is built too (``None`` for scalars)."""
    check_columns(spec, table)
    frame = table.frame
    result = AnalysisResult(kind="none", rows_in=len(frame))
    filtered = apply_filters(frame, spec.filters)
    result.rows_used = len(filtered)
    if spec.filters and filtered.empty:
        shown = " and ".join(describe_filter(f) for f in spec.filters)
        result.notes.append(f"The filter left no rows: nothing in {table.name} matches {shown}.")
        return result
    if frame.empty:
        result.notes.append(f"{table.name} has no rows.")
        return result
    _OPERATIONS[spec.operation](filtered, spec, result)
    result.figure = build_figure(result, spec)
    return result
