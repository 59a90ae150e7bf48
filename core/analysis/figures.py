"""Build a readable plotly figure for a result. Rendering to PNG happens elsewhere.

Axes come from ``spec.chart`` when it names them, otherwise from the result's
shape: the first key/label column on x, the first numeric value on y, a second
key as colour. Values keep the order the executor gave them (already sorted).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from pandas.api import types as ptypes

from core.analysis.columns import describe_column, humanise
from core.analysis.result import AnalysisResult
from core.analysis.spec import AnalysisSpec, ChartKind, ChartSpec
from core.errors import InputError

_MAX_LABELLED_BARS = 30
_MAX_CATEGORY_BARS = 60


def _is_number(series: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series)


def _is_time(table: pd.DataFrame, column: str, spec: AnalysisSpec) -> bool:
    if spec.time_bucket is not None and spec.time_bucket.column == column:
        return True
    return describe_column(column, table[column]).role in ("year", "datetime")


def likely_chart(spec: AnalysisSpec) -> bool:
    """Whether this spec will probably draw a chart, judged before it runs.

    Only a hint for starting the browser early; a wrong guess costs time, not output.
    """
    if spec.chart is not None or spec.operation in ("correlation", "distribution"):
        return True
    if spec.operation == "aggregate":
        return bool(spec.group_by or spec.time_bucket)
    return spec.operation == "rows" and len(spec.columns) == 2


def default_chart(result: AnalysisResult, spec: AnalysisSpec) -> ChartKind | None:
    """The chart a reader expects for this result, or ``None`` for no chart."""
    table = result.table
    if result.kind != "table" or table is None or table.empty:
        return None
    if spec.operation == "correlation":
        return "heatmap"
    if spec.operation == "distribution":
        return "histogram" if _is_number(table[spec.columns[0]]) else "bar"
    if spec.operation == "describe":
        return None
    if spec.operation == "rows" and len(spec.columns) != 2:
        return None  # whole rows, or one column of values: a table says it better
    labels = _label_columns(table, spec)
    values = [str(c) for c in table.columns if str(c) not in labels and _is_number(table[c])]
    if not labels or not values:
        return None  # e.g. one row of several aggregates: no axis to plot them along
    if _is_time(table, labels[0], spec):
        return "line"
    return "bar" if len(table) <= _MAX_CATEGORY_BARS else None


def _label_columns(table: pd.DataFrame, spec: AnalysisSpec) -> list[str]:
    """Columns that name the rows (group keys, categories, time), in axis order."""
    columns = [str(c) for c in table.columns]
    if spec.operation == "aggregate":
        keys = ([spec.time_bucket.column] if spec.time_bucket else []) + spec.group_by
        labels = [k for k in dict.fromkeys(keys) if k in columns]
    else:
        labels = [c for c in columns if not _is_number(table[c]) or _is_time(table, c, spec)]
    # Time goes along x (a line per group), whatever order the keys were named in.
    return sorted(labels, key=lambda c: not _is_time(table, c, spec))


def _axes(
    table: pd.DataFrame, spec: AnalysisSpec, chart: ChartSpec
) -> tuple[str, str | None, str | None]:
    columns = [str(c) for c in table.columns]
    for name in (chart.x, chart.y, chart.color):
        if name is not None and name not in columns:
            raise InputError(
                f"The chart names `{name}`, but the result has columns {', '.join(columns)}."
            )
    labels = _label_columns(table, spec)
    numbers = [c for c in columns if _is_number(table[c]) and c not in labels]
    if chart.kind in ("histogram", "box") and spec.operation == "distribution":
        value = spec.columns[0]
        other = [k for k in spec.group_by if k in columns and k != value]
        return value, None, chart.color or (other[0] if other else None)
    if chart.kind == "scatter" and len(numbers) >= 2 and chart.x is None:
        return numbers[1], numbers[0], chart.color or (labels[0] if labels else None)
    x = chart.x or (labels[0] if labels else columns[0])
    y = chart.y or next((c for c in numbers if c != x), None)
    color = chart.color or next((k for k in labels[1:] if k != x), None)
    return x, y, color


def _groups(table: pd.DataFrame, color: str | None) -> list[tuple[str | None, pd.DataFrame]]:
    if color is None:
        return [(None, table)]
    return [(str(k), part) for k, part in table.groupby(color, sort=False, observed=True)]


def _values(series: pd.Series) -> list[Any]:
    return series.tolist()


def _traces(
    kind: ChartKind, table: pd.DataFrame, x: str, y: str | None, color: str | None
) -> list[Any]:
    if kind == "heatmap":
        labels = table[table.columns[0]].astype(str).tolist()
        z = table[labels].to_numpy()
        return [
            go.Heatmap(
                z=z.tolist(),
                x=labels,
                y=labels,
                zmin=-1,
                zmax=1,
                colorscale="RdBu",
                text=[[f"{v:.2f}" for v in row] for row in z],
                texttemplate="%{text}",
            )
        ]
    if kind == "pie":
        if y is None:
            raise InputError("A pie chart needs a numeric column for the slice sizes.")
        return [go.Pie(labels=_values(table[x].astype(str)), values=_values(table[y]), sort=False)]
    traces: list[Any] = []
    for name, part in _groups(table, color):
        common: dict[str, Any] = {"name": name, "showlegend": name is not None}
        if kind == "histogram":
            traces.append(go.Histogram(x=_values(part[x]), opacity=0.75 if color else 1, **common))
        elif kind == "box":
            if y is None:
                traces.append(go.Box(y=_values(part[x]), **common))
            else:
                traces.append(go.Box(x=_values(part[x]), y=_values(part[y]), **common))
        elif y is None:
            raise InputError(f"A {kind} chart needs a numeric column to plot.")
        elif kind == "bar":
            bar = go.Bar(x=_values(part[x]), y=_values(part[y]), **common)
            if len(table) <= _MAX_LABELLED_BARS:
                integral = ptypes.is_integer_dtype(part[y])
                bar.update(
                    texttemplate="%{y:,}" if integral else "%{y:,.2f}", textposition="outside"
                )
            traces.append(bar)
        elif kind == "line":
            traces.append(
                go.Scatter(x=_values(part[x]), y=_values(part[y]), mode="lines+markers", **common)
            )
        else:
            traces.append(
                go.Scatter(x=_values(part[x]), y=_values(part[y]), mode="markers", **common)
            )
    return traces


def build_figure(result: AnalysisResult, spec: AnalysisSpec) -> go.Figure | None:
    """A plotly figure for ``result`` drawn as ``spec.chart`` (or a sensible default)."""
    table = result.table
    if result.kind != "table" or table is None or table.empty:
        return None
    chart = spec.chart
    if chart is None:
        kind = default_chart(result, spec)
        if kind is None:
            return None
        chart = ChartSpec(kind=kind)
    if chart.kind == "heatmap" and spec.operation != "correlation":
        raise InputError(
            "A heatmap is drawn for correlations; ask for the correlation of some columns."
        )
    x, y, color = _axes(table, spec, chart)
    figure = go.Figure(data=_traces(chart.kind, table, x, y, color))
    figure.update_layout(
        title={"text": chart.title or spec.title or "", "x": 0.02, "xanchor": "left"},
        template="plotly_white",
        separators=".,",  # decimal point, thousands comma
        margin={"l": 80, "r": 40, "t": 80, "b": 80},
        barmode="overlay" if chart.kind == "histogram" else "group",
        legend_title_text=humanise(color) if color else None,
        font={"size": 14},
    )
    if chart.kind in ("heatmap", "pie"):
        return figure
    x_title = humanise(x)
    y_title = humanise(y) if y else ("Count" if chart.kind == "histogram" else "")
    if chart.kind == "box" and y is None:
        x_title, y_title = "", humanise(x)
    figure.update_xaxes(title_text=x_title, type="log" if chart.log_x else None, automargin=True)
    figure.update_yaxes(
        title_text=y_title, type="log" if chart.log_y else None, automargin=True, tickformat=","
    )
    if chart.kind in ("bar", "box") and y is not None and not _is_number(table[x]):
        order = list(dict.fromkeys(table[x].astype(str)))
        figure.update_xaxes(type="category", categoryorder="array", categoryarray=order)
    elif chart.kind == "bar" and _is_number(table[x]):
        figure.update_xaxes(type="category")  # years and sizes are labels on a bar chart
    if _is_number(table[x]) and chart.kind in ("line", "scatter", "histogram"):
        figure.update_xaxes(tickformat="," if not _is_time(table, x, spec) else "d")
    return figure
