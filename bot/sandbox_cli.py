"""``nexus sandbox run|check``: the operator's view of the code sandbox.

``run`` executes a script exactly as a worker would (backend and limits from
settings, datasets copied in) and prints the structured result; ``check`` runs the
isolation self-test on this host. Mounted by ``bot/cli.py``; also runnable alone
with ``python -m bot.sandbox_cli``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from core.errors import CodeRejectedError, ConfigurationError, SandboxError
from core.sandbox.factory import create_sandbox
from core.sandbox.protocol import (
    FigureResult,
    SandboxResult,
    SandboxRun,
    StructuredResult,
    TableResult,
)
from core.sandbox.selftest import SelfTestReport, run_self_test
from core.settings import Settings

sandbox_app = typer.Typer(
    help="Run code in the sandbox and check its isolation.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@sandbox_app.command("run")
def run_command(
    script: Path = typer.Argument(..., help="Python file to run as generated code."),
    data: list[Path] = typer.Option([], "--data", "-d", help="Dataset file to copy in."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    timeout: float | None = typer.Option(None, "--timeout", help="Wall-clock seconds."),
) -> None:
    """Run SCRIPT like a worker would; exit 0 if it ran cleanly, 1 if it failed,
    2 for bad input or refused code."""
    for path in [script, *data]:
        if not path.is_file():
            err.print(f"not a file: {path}")
            raise typer.Exit(2)
    run = SandboxRun(code=script.read_text(encoding="utf-8"), datasets=data, timeout=timeout)
    try:
        result = asyncio.run(_run(Settings(), run))
    except CodeRejectedError as exc:
        err.print(f"refused: {exc.user_message}")
        raise typer.Exit(2) from exc
    except (SandboxError, ConfigurationError) as exc:
        err.print(f"sandbox failure: {getattr(exc, 'user_message', exc)} ({exc})")
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps(result.summary() | {"results": _json_results(result)}))
    else:
        _print_result(result)
    raise typer.Exit(0 if result.ok else 1)


@sandbox_app.command("check")
def check_command(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run the isolation self-test; exit 0 when everything is enforced, 1 otherwise."""
    settings = Settings()
    try:
        report = asyncio.run(_check(settings))
    except (SandboxError, ConfigurationError) as exc:
        err.print(f"sandbox failure: {getattr(exc, 'user_message', exc)} ({exc})")
        raise typer.Exit(1) from exc
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        _print_report(report)
    raise typer.Exit(0 if report.ok and not report.isolation.missing else 1)


async def _run(settings: Settings, run: SandboxRun) -> SandboxResult:
    sandbox = create_sandbox(settings)
    try:
        return await sandbox.run(run)
    finally:
        await sandbox.close()


async def _check(settings: Settings) -> SelfTestReport:
    sandbox = create_sandbox(settings)
    try:
        return await run_self_test(sandbox, data_dir=settings.data_dir)
    finally:
        await sandbox.close()


def _json_results(result: SandboxResult) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in result.results]


def _print_item(item: StructuredResult) -> None:
    label = f" {item.name}" if item.name else ""
    if isinstance(item, TableResult):
        table = Table(title=f"table{label} ({item.total_rows} rows)")
        for col in item.columns:
            table.add_column(col)
        for row in item.rows[:20]:
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)
        if item.total_rows > 20:
            out.print(f"... {item.total_rows - 20} more rows")
    elif isinstance(item, FigureResult):
        layout = item.figure.get("layout", {})
        title = (layout.get("title") or {}).get("text", "")
        kinds = sorted({t.get("type", "?") for t in item.figure.get("data", [])})
        out.print(f"figure{label}: {title!r} traces={kinds}")
    else:
        out.print(f"{item.kind}{label}: {item.value!r}")


def _print_result(result: SandboxResult) -> None:
    if result.stdout:
        out.print(result.stdout, end="", markup=False, highlight=False)
    if result.stderr:
        err.print(result.stderr, end="", markup=False, highlight=False)
    for item in result.results:
        _print_item(item)
    for name, blob in result.files.items():
        out.print(f"file: {name} ({len(blob)} bytes)")
    if result.error is not None:
        err.print(result.error.traceback or "", end="", markup=False, highlight=False)
        err.print(f"error: {result.error.type}: {result.error.message}", markup=False)
    limits = f", limits hit: {', '.join(result.limits_hit)}" if result.limits_hit else ""
    err.print(f"[{result.backend}] {result.duration:.3f} s{limits}", markup=False)


def _print_report(report: SelfTestReport) -> None:
    out.print(f"sandbox backend: {report.backend}")
    out.print("enforced:")
    for line in report.isolation.enforced:
        out.print(f"  + {line}", markup=False)
    if report.isolation.missing:
        out.print("missing:")
        for line in report.isolation.missing:
            out.print(f"  - {line}", markup=False)
    for note in report.isolation.notes:
        out.print(f"  note: {note}", markup=False)
    table = Table(title="self-test on this host")
    for col in ("area", "check", "result", "observed"):
        table.add_column(col)
    for c in report.checks:
        table.add_row(c.area, c.name, "enforced" if c.enforced else "MISSING", c.detail)
    out.print(table)


if __name__ == "__main__":
    from core.logging import configure_logging

    configure_logging("WARNING", "console")
    sandbox_app(prog_name=f"{Path(sys.executable).name} -m bot.sandbox_cli")
