"""The answer to one question, in the shape every front end (CLI, chat) renders."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field

from core.analysis.result import AnalysisResult
from core.analysis.spec import AnalysisSpec

JsonScalar = str | int | float | bool | None


class ResultPayload(BaseModel):
    """The ``result`` object of ``nexus ask --json`` (a fixed public shape)."""

    kind: Literal["scalar", "table", "none"]
    value: float | int | None = None
    columns: list[str] = Field(default_factory=list)
    rows: list[list[JsonScalar]] = Field(default_factory=list)


class DatasetRef(BaseModel):
    name: str
    content_hash: str
    rows: int


class LLMCall(BaseModel):
    """One LLM call made for an answer (a cache hit has zero tokens and cost)."""

    purpose: str
    """What the call was for: ``route``, ``spec``, ``code``, ``repair``, ``narrative``."""
    provider: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    cached: bool = False


class Receipt(BaseModel):
    """How the answer was produced: enough to reproduce or audit it."""

    datasets: list[DatasetRef]
    dataset_used: str
    rows_in: int
    rows_used: int
    method: Literal["spec", "code"] = "spec"
    planner: Literal["deterministic", "llm"] = "deterministic"
    explanation: str
    spec: dict[str, Any]
    rows_shown: int
    rows_total: int
    timings_ms: dict[str, float]
    notes: list[str] = Field(default_factory=list)
    # Filled by the LLM agents (core.agents); empty for deterministic answers.
    llm_calls: list[LLMCall] = Field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    code: str | None = None
    """The sandboxed program that produced a ``method == "code"`` answer."""

    @property
    def model(self) -> str | None:
        """The model of the last LLM call (the one whose output was used), if any."""
        return self.llm_calls[-1].model if self.llm_calls else None


@dataclass
class Chart:
    """A rendered chart: PNG bytes plus a file-name stem derived from the question."""

    png: bytes
    name: str


@dataclass
class Answer:
    text: str
    result: ResultPayload
    receipt: Receipt
    spec: AnalysisSpec
    charts: list[Chart] = field(default_factory=list)
    chart_notice: str | None = None
    """Set when a chart was wanted but could not be drawn (no browser, render failed)."""


def _json_cell(value: object) -> JsonScalar:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def result_payload(result: AnalysisResult, *, max_rows: int) -> ResultPayload:
    """Convert an analysis result to the JSON-safe public shape, keeping ``max_rows`` rows."""
    table = result.table
    columns = [str(c) for c in table.columns] if table is not None else []
    rows = (
        [[_json_cell(v) for v in row] for row in table.head(max_rows).itertuples(index=False)]
        if table is not None
        else []
    )
    value: float | int | None = None
    if result.kind == "scalar":
        cell = _json_cell(result.value)
        value = cell if isinstance(cell, int | float) and not isinstance(cell, bool) else None
    return ResultPayload(kind=result.kind, value=value, columns=columns, rows=rows)
