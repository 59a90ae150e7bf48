"""The analysis engine: files and a question in, an :class:`Answer` out.

Used by ``nexus ask`` directly and by the workers behind every chat platform.
It never calls an LLM: questions the deterministic planner cannot map raise
``QuestionNotUnderstoodError`` for the caller to hand to the LLM layer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

from core.analysis.execute import execute_spec
from core.analysis.narrative import compose_text
from core.analysis.planner import Plan, plan_question
from core.analysis.result import AnalysisResult
from core.answer import Answer, Chart, DatasetRef, Receipt, result_payload
from core.charts.renderer import ChartRenderer
from core.datasets.ingest import load_tables
from core.datasets.models import DatasetProfile, Table
from core.datasets.profile import profile_table
from core.errors import InputError, RenderError
from core.logging import get_logger
from core.settings import IngestLimits
from core.stopwatch import Stopwatch

log = get_logger("engine")

_DEFAULT_TABLE_ROWS = 200


def chart_name(question: str) -> str:
    """A file-name stem from the question: ``average-tip-by-day``."""
    slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")
    return slug[:60].rstrip("-") or "chart"


class AnalysisEngine:
    """Answers questions about tables with the deterministic planner and a warm renderer."""

    def __init__(
        self,
        *,
        limits: IngestLimits | None = None,
        renderer: ChartRenderer | None = None,
        max_table_rows: int = _DEFAULT_TABLE_ROWS,
    ) -> None:
        self._limits = limits or IngestLimits()
        self._renderer = renderer
        self._max_table_rows = max_table_rows

    def load_files(self, paths: Sequence[Path]) -> list[Table]:
        """Read every file into tables; the first bad file stops with its reason."""
        tables: list[Table] = []
        for path in paths:
            if not path.is_file():
                raise InputError(f"{path} does not exist or is not a file.")
            tables.extend(load_tables(path, self._limits))
        return tables

    def plan(
        self, tables: Sequence[Table], question: str, profiles: Sequence[DatasetProfile]
    ) -> Plan:
        """Map the question to a spec without an LLM, or raise QuestionNotUnderstoodError."""
        if not tables:
            raise InputError(
                "There is no data to analyse yet. Upload a CSV, Excel, JSON or Parquet file first."
            )
        question = question.strip()
        if not question:
            raise InputError('The question is empty. Ask something like "average tip by day".')
        plan = plan_question(question, list(tables), list(profiles))
        plan.spec.check_against(profiles[plan.table_index])
        if plan.spec.title is None:
            plan.spec.title = question[:1].upper() + question[1:]
        return plan

    async def answer(
        self,
        tables: Sequence[Table],
        question: str,
        *,
        profiles: Sequence[DatasetProfile] | None = None,
    ) -> Answer:
        """Plan, execute and render; CPU work runs in a thread so the event loop stays free."""
        watch = Stopwatch()

        def compute() -> tuple[Plan, AnalysisResult]:
            with watch.stage("profile"):
                known = (
                    list(profiles) if profiles is not None else [profile_table(t) for t in tables]
                )
            with watch.stage("plan"):
                plan = self.plan(tables, question, known)
            with watch.stage("execute"):
                result = execute_spec(plan.spec, tables[plan.table_index])
            return plan, result

        plan, result = await asyncio.to_thread(compute)
        return await self._finish(tables, question, plan, result, watch)

    async def answer_plan(self, tables: Sequence[Table], question: str, plan: Plan) -> Answer:
        """Execute an already-made plan (an LLM-filled spec, an edited follow-up)."""
        watch = Stopwatch()

        def compute() -> AnalysisResult:
            with watch.stage("execute"):
                return execute_spec(plan.spec, tables[plan.table_index])

        result = await asyncio.to_thread(compute)
        return await self._finish(tables, question, plan, result, watch)

    async def _finish(
        self,
        tables: Sequence[Table],
        question: str,
        plan: Plan,
        result: AnalysisResult,
        watch: Stopwatch,
    ) -> Answer:
        table = tables[plan.table_index]
        charts: list[Chart] = []
        notice: str | None = None
        if result.figure is not None:
            charts, notice = await self._render(result.figure, question, watch)
        payload = result_payload(result, max_rows=self._max_table_rows)
        receipt = Receipt(
            datasets=[
                DatasetRef(name=t.name, content_hash=t.content_hash, rows=len(t.frame))
                for t in tables
            ],
            dataset_used=table.name,
            rows_in=result.rows_in,
            rows_used=result.rows_used,
            explanation=plan.explanation,
            spec=plan.spec.model_dump(mode="json", exclude_defaults=True),
            rows_shown=len(payload.rows),
            rows_total=len(result.table) if result.table is not None else 0,
            timings_ms=watch.timings_ms,
            notes=[*table.frame.attrs.get("notes", []), *result.notes],
        )
        log.info("answered", dataset=table.content_hash[:12], kind=result.kind, **watch.timings_ms)
        return Answer(
            text=compose_text(plan.explanation, plan.spec, result),
            result=payload,
            receipt=receipt,
            spec=plan.spec,
            charts=charts,
            chart_notice=notice,
        )

    async def _render(
        self, figure: go.Figure, question: str, watch: Stopwatch
    ) -> tuple[list[Chart], str | None]:
        renderer = self._renderer
        if renderer is None:
            return [], "Charts are off in this run."
        if not renderer.available:
            return [], renderer.unavailable_reason
        try:
            with watch.stage("render"):
                png = await renderer.render(figure)
        except RenderError as exc:
            log.warning("chart_render_failed", error=str(exc))
            return [], "The chart could not be drawn this time; the numbers above are complete."
        return [Chart(png=png, name=chart_name(question))], None
