"""``nexus ask``: answer a question about local files, no platform or server needed."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from core.analysis.figures import likely_chart
from core.analysis.narrative import format_key, format_number, key_columns
from core.answer import Answer
from core.charts.renderer import ChartRenderer
from core.datasets.profile import profile_table
from core.engine import AnalysisEngine
from core.errors import InputError, NexusError, UserFacingError
from core.settings import IngestLimits, Settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
_TERMINAL_ROWS = 20


def _split_arguments(items: list[str]) -> tuple[list[Path], str]:
    if len(items) < 2:
        raise InputError('Give at least one file and a question: nexus ask FILE... "QUESTION"')
    *files, question = items
    return [Path(f) for f in files], question


async def _answer(files: list[Path], question: str, settings: Settings) -> Answer:
    renderer = ChartRenderer(timeout=settings.chart_timeout_seconds)
    engine = AnalysisEngine(limits=IngestLimits(), renderer=renderer)
    warmup: asyncio.Task[None] | None = None
    try:
        tables = await asyncio.to_thread(engine.load_files, files)
        profiles = await asyncio.to_thread(lambda: [profile_table(t) for t in tables])
        plan = await asyncio.to_thread(engine.plan, tables, question, profiles)
        if renderer.available and likely_chart(plan.spec):
            # The browser takes seconds to start: launch it while the plan executes,
            # once the question is understood and a chart is expected.
            warmup = asyncio.create_task(renderer.start())
        return await engine.answer_plan(tables, question, plan)
    finally:
        if warmup is not None:
            # Never cancel a launch half-way: let it finish, then close cleanly.
            await asyncio.gather(warmup, return_exceptions=True)
        await renderer.close()


def _write_charts(answer: Answer, out_dir: Path) -> list[Path]:
    paths: list[Path] = []
    if answer.charts:
        out_dir.mkdir(parents=True, exist_ok=True)
    for index, chart in enumerate(answer.charts):
        suffix = f"-{index + 1}" if len(answer.charts) > 1 else ""
        path = out_dir / f"{chart.name}{suffix}.png"
        path.write_bytes(chart.png)
        paths.append(path.resolve())
    return paths


def _cell(column: str, value: object, keys: set[str]) -> str:
    if value is None:
        return ""
    return format_key(value) if column in keys else format_number(value)


def _print_human(console: Console, answer: Answer, chart_paths: list[Path]) -> None:
    console.print(answer.text, highlight=False, soft_wrap=True)
    payload = answer.result
    if payload.kind == "table" and payload.rows:
        table = RichTable(show_edge=False, header_style="bold")
        for column in payload.columns:
            table.add_column(column)
        keys = set(key_columns(answer.spec, payload.columns))
        for row in payload.rows[:_TERMINAL_ROWS]:
            cells = zip(payload.columns, row, strict=True)
            table.add_row(*(_cell(column, value, keys) for column, value in cells))
        console.print(table)
        hidden = answer.receipt.rows_total - min(len(payload.rows), _TERMINAL_ROWS)
        if hidden > 0:
            console.print(f"… {hidden:,} more rows (use --json for up to {len(payload.rows):,})")
    for path in chart_paths:
        console.print(f"Chart: {path}", highlight=False, soft_wrap=True)
    if answer.chart_notice:
        console.print(answer.chart_notice, highlight=False, soft_wrap=True)
    receipt = answer.receipt
    digest = receipt.datasets[0].content_hash[:12]
    console.print(
        f"[dim]Receipt: {receipt.explanation} · {receipt.dataset_used} "
        f"({receipt.rows_used:,}/{receipt.rows_in:,} rows) · sha256 {digest}[/dim]",
        highlight=False,
        soft_wrap=True,
    )


def _json_document(answer: Answer, chart_paths: list[Path]) -> dict[str, Any]:
    receipt = answer.receipt.model_dump(mode="json")
    if answer.chart_notice:
        receipt["chart_notice"] = answer.chart_notice
    return {
        "text": answer.text,
        "result": answer.result.model_dump(mode="json"),
        "charts": [str(p) for p in chart_paths],
        "receipt": receipt,
    }


def ask(
    items: Annotated[list[str], typer.Argument(metavar='FILE... "QUESTION"', show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Directory for chart PNGs.")] = Path(
        "nexus-out"
    ),
) -> None:
    """Analyse FILE(s) locally and answer QUESTION (no platform, server or Redis needed)."""
    console = Console(stderr=False)
    try:
        files, question = _split_arguments(items)
        answer = asyncio.run(_answer(files, question, Settings()))
        chart_paths = _write_charts(answer, out)
    except InputError as exc:
        print(f"nexus: {exc.user_message}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except UserFacingError as exc:
        print(f"nexus: {exc.user_message}", file=sys.stderr)
        raise typer.Exit(EXIT_FAILED) from None
    except NexusError as exc:
        print(f"nexus: internal error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_FAILED) from None
    if as_json:
        sys.stdout.write(json.dumps(_json_document(answer, chart_paths), ensure_ascii=False) + "\n")
    else:
        _print_human(console, answer, chart_paths)
