"""From what a local run left behind (pipes, exit event) to a :class:`SandboxResult`.

Everything read here came from the sandbox and is untrusted: result lines are
parsed one by one, validated, and dropped when malformed. Errors in user code are
returned in the result; only a sandbox that could not set itself up is raised.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from core.errors import SandboxError
from core.sandbox.protocol import (
    LimitName,
    SandboxErrorInfo,
    SandboxResult,
    StructuredResult,
)
from core.settings import SandboxLimits

_ITEM = TypeAdapter(StructuredResult)
_LIMIT_NAMES = {"timeout", "cpu", "memory", "processes", "output", "result", "file_size"}


@dataclass
class Outcome:
    timeout: float
    limits: SandboxLimits
    started: float = 0.0
    exit: dict[str, Any] | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    results: bytes = b""
    overflow: set[str] = field(default_factory=set)

    @staticmethod
    def clean_final(results: bytes) -> bool:
        """The run wrote its final line and reported no error."""
        tail = results.rstrip(b"\n").rpartition(b"\n")[2]
        try:
            final = json.loads(tail)
        except ValueError:
            return False
        return isinstance(final, dict) and final.get("final") is True and not final.get("error")


def _parse(results: bytes) -> tuple[list[Any], dict[str, Any] | None]:
    items: list[Any] = []
    final: dict[str, Any] | None = None
    for line in results.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        if obj.get("final") is True:
            final = obj
            continue
        try:
            items.append(_ITEM.validate_python(obj))
        except ValidationError:
            continue
    return items, final


def decode_files(entries: list[Any]) -> dict[str, bytes]:
    """``[{"name", "data" (base64)}]`` from the runtime to name → bytes; bad entries dropped."""
    files: dict[str, bytes] = {}
    for entry in entries:
        try:
            files[str(entry["name"])] = base64.b64decode(entry["data"], validate=True)
        except (KeyError, TypeError, binascii.Error):
            continue
    return files


def _killed_error(outcome: Outcome, hit: set[str]) -> SandboxErrorInfo:
    lim = outcome.limits
    # In order of precedence: the first limit hit names the error.
    reasons = (
        ("timeout", "TimeoutError", f"ran longer than {outcome.timeout:g} s and was stopped"),
        (
            "output",
            "OutputLimitExceeded",
            f"printed more than {lim.max_output_bytes} bytes and was stopped",
        ),
        ("result", "ResultTooLarge", f"returned more than {lim.max_result_bytes} bytes of results"),
        ("memory", "MemoryError", f"used more than {lim.memory_mb} MiB of memory and was stopped"),
        (
            "cpu",
            "CPUTimeExceeded",
            f"used more than {lim.cpu_seconds} s of CPU time and was stopped",
        ),
    )
    for limit, error_type, what in reasons:
        if limit in hit:
            return SandboxErrorInfo(type=error_type, message=f"The code {what}.")
    ev = outcome.exit or {}
    how = f"signal {ev['signal']}" if ev.get("signal") else f"exit code {ev.get('exit_code')}"
    return SandboxErrorInfo(type="SandboxCrash", message=f"The code stopped unexpectedly ({how}).")


def _limits_from_error(error: SandboxErrorInfo | None) -> set[str]:
    if error is None:
        return set()
    if error.type == "MemoryError":
        return {"memory"}
    if error.type == "CPUTimeExceeded":
        return {"cpu"}
    if "File too large" in error.message:
        return {"file_size"}
    return set()


def build_result(outcome: Outcome, *, backend: str) -> SandboxResult:
    items, final = _parse(outcome.results)
    ev = outcome.exit or {}
    if ev.get("event") == "server_gone":
        raise SandboxError("The code sandbox stopped unexpectedly.", detail="fork server exited")
    if ev.get("error"):
        raise SandboxError("The code sandbox could not start this run.", detail=ev["error"])
    if final is not None and final.get("setup_error"):
        raise SandboxError(
            "The code sandbox could not start this run.", detail=str(final["setup_error"])
        )
    hit = {h for h in ev.get("limits_hit", []) if h in _LIMIT_NAMES} | outcome.overflow
    if ev.get("timed_out"):
        hit.add("timeout")
    error: SandboxErrorInfo | None = None
    if final is not None and final.get("error"):
        try:
            error = SandboxErrorInfo.model_validate(final["error"])
        except ValidationError:
            error = SandboxErrorInfo(type="Error", message="The code failed.")
    # A kill decided outside the code (deadline, caps, OOM) explains more than
    # whatever the code managed to report on its way down.
    if hit & {"timeout", "output", "result"} or (final is None and ev):
        error = _killed_error(outcome, hit)
    hit |= _limits_from_error(error)
    stderr = outcome.stderr.decode("utf-8", errors="replace")
    for name in (final or {}).get("skipped_files") or []:
        stderr += f"[sandbox] file {str(name)[:200]!r} not returned: over the size limit\n"
    return SandboxResult(
        stdout=outcome.stdout.decode("utf-8", errors="replace"),
        stderr=stderr,
        error=error,
        results=items,
        files=decode_files((final or {}).get("files") or []),
        duration=round(time.monotonic() - outcome.started, 4) if outcome.started else 0.0,
        timed_out="timeout" in hit,
        limits_hit=sorted(hit),
        backend=backend,
    )


__all__ = ["LimitName", "Outcome", "build_result"]
