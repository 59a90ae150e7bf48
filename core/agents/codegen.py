"""Ask the LLM for a program, run it in the sandbox, and repair it on failure.

The program runs only in the sandbox (design principle 5); nothing else is done with
what the model returns. When a run fails (an exception, a refusal by the pre-check,
or no usable result), the error and traceback go back to the model inside a data
block and it gets another try, at most ``max_repairs`` times. A timeout is not
retried: the user hears about it at once rather than after several more timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.agents.calls import LLMSession
from core.agents.datafiles import DataFile
from core.agents.prompts import CODE_TOOL, assistant_echo, code_messages, code_tools, retry_message
from core.agents.references import Reference
from core.agents.results import CodeOutput, read_output
from core.datasets.models import DatasetProfile
from core.errors import CodeRejectedError, SandboxError, SandboxTimeoutError
from core.llm.types import ChatMessage, ChatResponse
from core.logging import get_logger
from core.sandbox.protocol import Sandbox, SandboxResult, SandboxRun

log = get_logger("agents.codegen")

_TRACEBACK_CHARS = 3000
_MESSAGE_CHARS = 500
_MAX_CODE_CHARS = 50_000


@dataclass
class CodeRun:
    """The program that worked, what it produced, and how many tries it took."""

    code: str
    explanation: str | None
    output: CodeOutput
    attempts: int
    timings_ms: dict[str, float] = field(default_factory=dict)


class _Failed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


def _program(response: ChatResponse) -> tuple[str, str | None]:
    call = next((c for c in response.tool_calls if c.name == CODE_TOOL), None)
    code = call.arguments.get("code") if call is not None else None
    if not isinstance(code, str) or not code.strip():
        raise _Failed({"type": "NoProgram", "message": f"Reply by calling {CODE_TOOL}."})
    if len(code) > _MAX_CODE_CHARS:
        raise _Failed({"type": "TooLong", "message": "Keep the program under 50,000 characters."})
    explanation = call.arguments.get("explanation") if call is not None else None
    return code, explanation if isinstance(explanation, str) else None


def _run_error(result: SandboxResult) -> dict[str, Any]:
    assert result.error is not None
    return {
        "type": result.error.type,
        "message": result.error.message[:_MESSAGE_CHARS],
        "traceback": result.error.traceback[-_TRACEBACK_CHARS:],
        "stderr": result.stderr[-1000:],
    }


class CodeAgent:
    """Writes, runs and repairs analysis programs."""

    def __init__(
        self, *, sandbox: Sandbox, max_repairs: int = 2, timeout_seconds: float | None = None
    ) -> None:
        self._sandbox = sandbox
        self._max_repairs = max_repairs
        self._timeout = timeout_seconds

    async def run(
        self,
        llm: LLMSession,
        question: str,
        profiles: Sequence[DatasetProfile],
        files: Sequence[DataFile],
        *,
        rows_in: int,
        history: Sequence[str] = (),
        references: Sequence[Reference] = (),
        reason: str | None = None,
        session: str | None = None,
    ) -> CodeRun:
        """A working program's output, or a :class:`SandboxError` the user can read."""
        messages: list[ChatMessage] = code_messages(
            question,
            profiles,
            [(f.name, f.reader) for f in files],
            history=history,
            references=references,
            reason=reason,
        )
        timings: dict[str, float] = {"llm": 0.0, "sandbox": 0.0}
        tries = 1 + self._max_repairs
        last: dict[str, Any] = {}
        for attempt in range(1, tries + 1):
            started = time.perf_counter()
            response = await llm.chat(
                "code" if attempt == 1 else "code_repair",
                messages,
                tools=code_tools(),
                tool_choice="required",
                max_tokens=3000,
            )
            timings["llm"] += (time.perf_counter() - started) * 1000
            code: str | None = None
            try:
                code, explanation = _program(response)
                started = time.perf_counter()
                result = await self._execute(code, files, llm, session)
                timings["sandbox"] += (time.perf_counter() - started) * 1000
                output = read_output(result, rows_in=rows_in)
                if output is None:
                    raise _Failed(
                        {
                            "type": "NoResult",
                            "message": "The program ran but returned no number or table. "
                            'End it with show(value, name="label").',
                            "stdout": result.stdout[-1000:],
                        }
                    )
                log.info("agents.code_ok", attempt=attempt, seconds=result.duration)
                rounded = {k: round(v, 2) for k, v in timings.items()}
                return CodeRun(code, explanation, output, attempt, rounded)
            except _Failed as failure:
                last = failure.error
                log.info("agents.code_failed", attempt=attempt, kind=last.get("type"))
                echo = (
                    assistant_echo(CODE_TOOL, {"code": code})
                    if code is not None
                    else ChatMessage(role="assistant", content="(no program)")
                )
                messages = [*messages, echo, retry_message("That program", last)]
        kind = str(last.get("type", "Error"))
        detail = " ".join(str(last.get("message", "")).split())[:200]
        raise SandboxError(
            f"I wrote {tries} programs for this question and each one failed "
            f"(last error: {kind}: {detail}). Try asking in smaller steps, "
            "or name the columns and method to use.",
            detail=f"code repair gave up after {tries} attempts",
        )

    async def _execute(
        self, code: str, files: Sequence[DataFile], llm: LLMSession, session: str | None
    ) -> SandboxResult:
        timeout = self._timeout
        if llm.deadline is not None:
            left = llm.deadline.remaining()
            if left <= 1:
                raise SandboxTimeoutError(
                    "This question ran out of time before its program could run. Try again, "
                    "or ask something smaller."
                )
            timeout = left if timeout is None else min(timeout, left)
        run = SandboxRun(
            code=code, datasets=[f.path for f in files], timeout=timeout, session=session
        )
        try:
            result = await self._sandbox.run(run)
        except CodeRejectedError as exc:  # the courtesy pre-check: tell the model why
            raise _Failed({"type": "CodeRejected", "message": exc.user_message}) from None
        if result.timed_out:
            raise SandboxTimeoutError(
                "The program for this question ran past its time limit and was stopped. "
                "Try a smaller question or a sample of the data.",
                detail=f"sandbox timeout after {result.duration}s",
            )
        if result.error is not None:
            raise _Failed(_run_error(result))
        return result
