"""What a sandboxed program returned → the same :class:`Answer` a spec produces.

Everything in a :class:`SandboxResult` is untrusted: tables are rebuilt from plain
records, labels are cut to one short line, and a figure is only ever handed to the
chart renderer as JSON (which sanitizes it before the browser sees it). The numbers
in the answer text are the ones the program computed, formatted here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from core.analysis.narrative import compose_text, format_number
from core.analysis.result import AnalysisResult
from core.analysis.spec import AnalysisSpec
from core.answer import Answer, Chart, DatasetRef, Receipt, result_payload
from core.datasets.models import Table
from core.engine import chart_name
from core.errors import RenderError
from core.logging import get_logger
from core.sandbox.protocol import (
    FigureResult,
    JsonResult,
    SandboxResult,
    ScalarResult,
    TableResult,
)

log = get_logger("agents.results")

_MAX_LABEL = 80
_MARKUP = re.compile(r"[<>@]")


class FigureRenderer(Protocol):
    """The part of :class:`core.charts.renderer.ChartRenderer` the agents use."""

    @property
    def available(self) -> bool: ...

    @property
    def unavailable_reason(self) -> str | None: ...

    async def render(self, figure: Mapping[str, Any]) -> bytes: ...


@dataclass
class CodeOutput:
    """The usable part of a program's results."""

    result: AnalysisResult
    figure: dict[str, Any] | None = None
    extras: list[tuple[str, float | int | None]] = field(default_factory=list)
    """Named numbers shown beside a table (e.g. ``r_squared`` next to coefficients)."""
    total_rows: int = 0


def clean_label(name: str | None, fallback: str = "Result") -> str:
    """A program-chosen label as one short line of plain text.

    Angle brackets and ``@`` go: chat platforms turn ``<!channel>`` or ``<@U1>`` into
    pings, and a label written by generated code must not notify anyone.
    """
    text = _MARKUP.sub("", " ".join((name or "").split()))[:_MAX_LABEL].strip()
    return text or fallback


def _number(value: object) -> float | int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and (not isinstance(value, float) or math.isfinite(value)):
        return value
    return None


def _named_numbers(results: Sequence[Any]) -> list[tuple[str, float | int | None]]:
    named: list[tuple[str, float | int | None]] = []
    for item in results:
        if isinstance(item, ScalarResult):
            named.append((clean_label(item.name), _number(item.value)))
        elif isinstance(item, JsonResult) and isinstance(item.value, dict):
            # {"slope": 0.1, "intercept": 0.9}: a common way to return a few numbers.
            for key, value in list(item.value.items())[:50]:
                if isinstance(value, int | float | bool) or value is None:
                    named.append((clean_label(str(key)), _number(value)))
    return named


def _table(item: TableResult) -> pd.DataFrame:
    columns = [clean_label(c, f"column {i + 1}") for i, c in enumerate(item.columns)]
    return pd.DataFrame(item.rows, columns=columns)


def read_output(sandbox: SandboxResult, *, rows_in: int) -> CodeOutput | None:
    """The program's answer, or ``None`` when it returned no number or table."""
    tables = [r for r in sandbox.results if isinstance(r, TableResult)]
    figures = [r for r in sandbox.results if isinstance(r, FigureResult)]
    named = _named_numbers(sandbox.results)
    figure = figures[0].figure if figures else None
    result = AnalysisResult(kind="none", rows_in=rows_in, rows_used=rows_in)
    if tables:
        main = next((t for t in tables if t.is_main), tables[-1])
        result.kind = "table"
        result.table = _table(main)
        if main.truncated:
            shown = len(main.records)  # the sandbox caps returned rows
            result.notes.append(
                f"The program's table has {main.total_rows:,} rows; the first {shown:,} are kept."
            )
        return CodeOutput(result, figure, named, main.total_rows)
    if len(named) == 1:
        label, value = named[0]
        result.value_label = label
        result.table = pd.DataFrame({label: [value]})
        if value is None:
            result.notes.append(f"{label} came out undefined (not a finite number).")
        else:
            result.kind, result.value = "scalar", value
        return CodeOutput(result, figure, [], 1)
    if named:
        result.kind = "table"
        result.table = pd.DataFrame(named, columns=["name", "value"])
        return CodeOutput(result, figure, [], len(named))
    return None


def _text(question: str, output: CodeOutput, placeholder: AnalysisSpec) -> str:
    explanation = f"Result of a Python program for “{clean_label(question, 'the question')}”"
    text = compose_text(explanation, placeholder, output.result)
    if output.extras:
        shown = "; ".join(f"{name} {format_number(value)}" for name, value in output.extras[:6])
        text += f" Also computed: {shown}."
    return text


async def _chart(
    figure: dict[str, Any] | None, question: str, renderer: FigureRenderer | None
) -> tuple[list[Chart], str | None]:
    if figure is None:
        return [], None
    if renderer is None:
        return [], "Charts are off in this run."
    if not renderer.available:
        return [], renderer.unavailable_reason
    try:
        png = await renderer.render(figure)
    except RenderError as exc:
        log.warning("agents.code_chart_failed", error=str(exc)[:200])
        return [], "The program's chart could not be drawn; the numbers above are complete."
    return [Chart(png=png, name=chart_name(question))], None


async def code_answer(
    output: CodeOutput,
    *,
    question: str,
    tables: Sequence[Table],
    code: str,
    explanation: str | None,
    renderer: FigureRenderer | None,
    max_rows: int,
    timings_ms: dict[str, float],
) -> Answer:
    """An :class:`Answer` (``method="code"``) from a program's output.

    ``Answer.spec`` is a placeholder ``rows`` spec titled with the question: code
    answers have no editable spec, so callers must not apply follow-up edits to it
    (check ``receipt.method``).
    """
    placeholder = AnalysisSpec(operation="rows", title=question[:1].upper() + question[1:])
    charts, notice = await _chart(output.figure, question, renderer)
    payload = result_payload(output.result, max_rows=max_rows)
    method = clean_label(explanation, "") if explanation else ""
    receipt = Receipt(
        datasets=[
            DatasetRef(name=t.name, content_hash=t.content_hash, rows=len(t.frame)) for t in tables
        ],
        dataset_used=", ".join(t.name for t in tables),
        rows_in=output.result.rows_in,
        rows_used=output.result.rows_used,
        method="code",
        planner="llm",
        explanation=f"Python program in the sandbox{': ' + method if method else ''}",
        spec={},
        rows_shown=len(payload.rows),
        rows_total=output.total_rows,
        timings_ms=timings_ms,
        notes=list(output.result.notes),
        code=code,
    )
    return Answer(
        text=_text(question, output, placeholder),
        result=payload,
        receipt=receipt,
        spec=placeholder,
        charts=charts,
        chart_notice=notice,
    )
