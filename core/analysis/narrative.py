"""Plain-language answer text that states the numbers it was computed from."""

from __future__ import annotations

import math
from numbers import Number

import pandas as pd

from core.analysis.result import AnalysisResult
from core.analysis.spec import AnalysisSpec

_LISTED_ITEMS = 6


def format_number(value: object) -> str:
    """Readable numbers: thousands separators, two decimals for small fractions."""
    if isinstance(value, bool) or not isinstance(value, Number):
        if isinstance(value, pd.Timestamp):
            return _format_timestamp(value)
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        return "n/a"
    if number.is_integer():
        return f"{int(number):,}"
    if abs(number) >= 1000:
        return f"{number:,.1f}"
    if abs(number) >= 0.01:
        return f"{number:,.2f}"
    return f"{number:.3g}"


def format_key(value: object) -> str:
    """Group labels are names, not quantities: 2007 stays 2007, not 2,007."""
    if isinstance(value, pd.Timestamp):
        return _format_timestamp(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def key_columns(spec: AnalysisSpec, columns: list[str]) -> list[str]:
    """The result columns that label rows (group keys, time buckets) rather than measure."""
    keys = [c for c in spec.group_by if c in columns]
    if spec.time_bucket and spec.time_bucket.column in columns:
        keys.insert(0, spec.time_bucket.column)
    return keys


def _format_timestamp(value: pd.Timestamp) -> str:
    if value.hour == value.minute == value.second == 0:
        return value.strftime("%Y-%m-%d")
    return value.isoformat()


def _key_columns(spec: AnalysisSpec, table: pd.DataFrame) -> list[str]:
    keys = key_columns(spec, [str(c) for c in table.columns])
    if not keys and spec.operation == "rows":
        keys = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])][:1]
    return keys


def _describe_row(row: pd.Series, keys: list[str], values: list[str]) -> str:
    label = ", ".join(format_key(row[k]) for k in keys) if keys else "all rows"
    shown = "; ".join(
        format_number(row[v]) if len(values) == 1 else f"{v} {format_number(row[v])}"
        for v in values
    )
    return f"{label} {shown}"


def _table_sentence(explanation: str, spec: AnalysisSpec, table: pd.DataFrame) -> str:
    keys = _key_columns(spec, table)
    values = [c for c in table.columns if c not in keys]
    if spec.operation == "distribution" and values:
        series = pd.to_numeric(table[values[0]], errors="coerce").dropna()
        if len(series):
            return (
                f"{explanation}: {len(series):,} values, median {format_number(series.median())}, "
                f"range {format_number(series.min())} to {format_number(series.max())}"
            )
    if spec.limit == 1 and len(table) == 1 and keys:
        row = table.iloc[0]
        head = ", ".join(format_key(row[k]) for k in keys)
        shown = "; ".join(f"{v} {format_number(row[v])}" for v in values)
        return f"{head} — {explanation}: {shown}"
    items = [_describe_row(row, keys, values) for _, row in table.head(_LISTED_ITEMS).iterrows()]
    more = len(table) - len(items)
    tail = f", and {more:,} more" if more > 0 else ""
    return f"{explanation}: {'; '.join(items)}{tail}"


def compose_text(explanation: str, spec: AnalysisSpec, result: AnalysisResult) -> str:
    """One or two sentences with the key numbers, then any caveats."""
    if result.kind == "scalar":
        label = result.value_label or explanation
        sentence = f"{label[:1].upper()}{label[1:]}: {format_number(result.value)}"
    elif result.kind == "table" and result.table is not None:
        sentence = _table_sentence(explanation[:1].upper() + explanation[1:], spec, result.table)
    else:
        sentence = "No rows matched, so there is nothing to show."
    if result.rows_in and result.kind != "none":
        sentence += f" (from {result.rows_used:,} of {result.rows_in:,} rows)"
    if not sentence.endswith("."):
        sentence += "."
    notes = [n if n.endswith(".") else n + "." for n in result.notes]
    return " ".join([sentence, *notes])
