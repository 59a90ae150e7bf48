"""The typed analysis spec: what to compute, expressed without code.

The deterministic planner and the LLM both produce an :class:`AnalysisSpec`; the
executor runs it with pandas directly. A spec is JSON-safe so it can be stored
with an answer and edited by chart follow-ups ("make it a line chart").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from core.datasets.models import DatasetProfile
from core.errors import InputError

AggregateFunc = Literal["count", "sum", "mean", "median", "min", "max", "nunique", "std"]
FilterOp = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "contains", "between"]
TimeFreq = Literal["day", "week", "month", "quarter", "year"]
ChartKind = Literal["bar", "line", "scatter", "histogram", "box", "pie", "heatmap"]
Operation = Literal["aggregate", "rows", "correlation", "describe", "distribution"]
Scalar = str | int | float | bool


class Filter(BaseModel):
    """Keep rows where ``column op value`` holds."""

    column: str
    op: FilterOp = "=="
    value: Scalar | list[Scalar] | None = None


class Aggregation(BaseModel):
    """One aggregate; ``column=None`` with ``func="count"`` counts rows."""

    func: AggregateFunc
    column: str | None = None
    alias: str | None = None

    @property
    def output_name(self) -> str:
        if self.alias:
            return self.alias
        if self.column is None:
            return "count"
        return f"{self.func}_{self.column}"


class TimeBucket(BaseModel):
    """Group a datetime (or year-like integer) column by calendar period."""

    column: str
    freq: TimeFreq


class Sort(BaseModel):
    column: str
    descending: bool = True


class ChartSpec(BaseModel):
    """How to draw the result; axes name result columns (or source columns for raw charts)."""

    kind: ChartKind
    x: str | None = None
    y: str | None = None
    color: str | None = None
    title: str | None = None
    log_x: bool = False
    log_y: bool = False


class AnalysisSpec(BaseModel):
    """A complete, code-free description of one analysis.

    Operations:
    - ``aggregate``: filter → (time bucket) → group by → aggregations → sort → limit.
      No group keys gives one row; one aggregation with no group keys is a scalar.
    - ``rows``: filter → select ``columns`` → sort → limit (e.g. "top 5 countries by gdp").
    - ``correlation``: Pearson correlation matrix of ``columns`` (all numeric when empty).
    - ``describe``: summary statistics of ``columns`` (all when empty).
    - ``distribution``: the values of one column, for a histogram or box plot.
    """

    operation: Operation = "aggregate"
    filters: list[Filter] = Field(default_factory=list)
    group_by: list[str] = Field(default_factory=list)
    time_bucket: TimeBucket | None = None
    aggregations: list[Aggregation] = Field(default_factory=list)
    columns: list[str] = Field(default_factory=list)
    sort: Sort | None = None
    limit: int | None = Field(default=None, ge=1, le=10_000)
    chart: ChartSpec | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> AnalysisSpec:
        if self.operation == "aggregate" and not self.aggregations:
            raise ValueError("an aggregate spec needs at least one aggregation")
        if self.operation == "distribution" and len(self.columns) != 1:
            raise ValueError("a distribution spec names exactly one column")
        for agg in self.aggregations:
            if agg.column is None and agg.func != "count":
                raise ValueError(f"{agg.func} needs a column")
        return self

    def referenced_columns(self) -> set[str]:
        """Source columns the spec reads (not result columns)."""
        cols = {f.column for f in self.filters} | set(self.group_by) | set(self.columns)
        cols |= {a.column for a in self.aggregations if a.column}
        if self.time_bucket:
            cols.add(self.time_bucket.column)
        return cols

    def check_against(self, profile: DatasetProfile) -> None:
        """Raise a user-facing error if the spec names columns the dataset lacks."""
        known = {c.name for c in profile.columns}
        missing = sorted(self.referenced_columns() - known)
        if missing:
            listed = ", ".join(f"`{c}`" for c in missing)
            raise InputError(
                f"{profile.name} has no column {listed}. "
                f"Its columns are: {', '.join(sorted(known))}."
            )
