"""The sandbox interface every worker uses, and the structured results it returns.

A run is code plus dataset files plus a time limit. What comes back is plain data:
stdout/stderr, the error the *user code* raised (returned, never raised here),
structured results (tables as records, plotly figures as JSON, scalars, text),
and the files the code wrote. Backends raise only for refusals
(:class:`~core.errors.CodeRejectedError`) and infrastructure failures
(:class:`~core.errors.SandboxError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from core.sandbox.isolation import IsolationReport

LimitName = Literal["timeout", "cpu", "memory", "processes", "output", "result", "file_size"]


class SandboxRun(BaseModel):
    """One piece of code to run against copies of some dataset files."""

    model_config = ConfigDict(frozen=True)

    code: str
    datasets: list[Path] = Field(default_factory=list)
    """Host paths; each is copied into the run's work dir under its own file name."""
    timeout: float | None = None
    """Wall-clock seconds; ``None`` means the configured default."""
    session: str | None = None
    """Conversation key (workspace + thread). E2B reuses one sandbox per session."""
    check_code: bool = True
    """Run the AST pre-check. Only the hostile test-suite turns this off, to prove
    that the isolation (not the courtesy check) is what contains the code."""


class SandboxErrorInfo(BaseModel):
    """An exception raised by the user code (or the reason the sandbox stopped it)."""

    type: str
    message: str
    traceback: str = ""


class _Item(BaseModel):
    name: str | None = None
    is_main: bool = False
    """True for the value of the code's last expression (notebook style)."""


class TableResult(_Item):
    kind: Literal["table"] = "table"
    columns: list[str]
    records: list[dict[str, Any]]
    total_rows: int
    truncated: bool = False

    @property
    def rows(self) -> list[list[Any]]:
        return [[r.get(c) for c in self.columns] for r in self.records]


class FigureResult(_Item):
    kind: Literal["figure"] = "figure"
    figure: dict[str, Any]
    """Plotly figure JSON (``data`` + ``layout``); untrusted, render it with care."""


class ScalarResult(_Item):
    kind: Literal["scalar"] = "scalar"
    value: bool | int | float | None


class TextResult(_Item):
    kind: Literal["text"] = "text"
    value: str


class JsonResult(_Item):
    kind: Literal["json"] = "json"
    value: Any


StructuredResult = Annotated[
    TableResult | FigureResult | ScalarResult | TextResult | JsonResult,
    Field(discriminator="kind"),
]


class SandboxResult(BaseModel):
    """Everything one run produced; ``error`` is set when the user code failed."""

    stdout: str = ""
    stderr: str = ""
    error: SandboxErrorInfo | None = None
    results: list[StructuredResult] = Field(default_factory=list)
    files: dict[str, bytes] = Field(default_factory=dict)
    """Files the code created or changed in its work dir (name relative to it)."""
    duration: float = 0.0
    timed_out: bool = False
    limits_hit: list[LimitName] = Field(default_factory=list)
    backend: str = "local"

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out

    def summary(self) -> dict[str, Any]:
        """A JSON-safe view (files as name → size) for logs and the CLI."""
        data = self.model_dump(mode="json", exclude={"files"})
        data["files"] = {name: len(blob) for name, blob in self.files.items()}
        return data


@runtime_checkable
class Sandbox(Protocol):
    """A backend that runs untrusted code. Implementations are safe to share
    across tasks and bound their own concurrency."""

    name: str

    async def start(self) -> None:
        """Prepare (start the fork server, check credentials); idempotent."""

    async def run(self, run: SandboxRun) -> SandboxResult:
        """Run code; user-code errors come back in the result."""
        ...

    async def close(self) -> None:
        """Stop everything this backend started."""

    def report(self) -> IsolationReport:
        """What isolation is enforced (for ``/readyz`` and the startup log)."""
        ...
