"""The LLM fills the typed analysis spec (a forced tool call), or says it cannot.

Whatever comes back is only ever parsed into an :class:`AnalysisSpec` (pydantic),
checked against the chosen dataset's profile and executed by the engine. A spec that
fails validation or execution is handed back with the error, a bounded number of
times; the model saying ``needs_code`` sends the question on to the code path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from core.agents.calls import LLMSession
from core.agents.prompts import (
    NEEDS_CODE_TOOL,
    SPEC_TOOL,
    assistant_echo,
    retry_message,
    spec_messages,
    spec_tools,
)
from core.agents.references import Reference
from core.analysis.planner import Plan, explain
from core.analysis.spec import AnalysisSpec
from core.datasets.models import DatasetProfile
from core.errors import InputError, QuestionNotUnderstoodError
from core.llm.types import ChatMessage, ToolCall
from core.logging import get_logger

log = get_logger("agents.specfill")

T = TypeVar("T")

_MAX_REASON = 300


@dataclass
class NeedsCode:
    """The model said no spec can express the question."""

    reason: str


class _Unusable(Exception):
    """The model's reply cannot be used; ``error`` goes back to it."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


def _validation_error(exc: ValidationError) -> dict[str, Any]:
    problems = [
        {"at": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)[:10]
    ]
    return {"type": "InvalidSpec", "message": "The spec does not validate.", "problems": problems}


def to_plan(call: ToolCall, profiles: Sequence[DatasetProfile], title: str) -> Plan:
    """Validate a ``answer_with_spec`` call into a :class:`Plan`, or raise ``_Unusable``.

    Titles are ours (``title``), not the model's: a spec carries only computation.
    """
    index = call.arguments.get("dataset", 0)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(profiles):
        raise _Unusable(
            {"type": "InvalidDataset", "message": f"dataset must be 0..{len(profiles) - 1}"}
        )
    try:
        spec = AnalysisSpec.model_validate(call.arguments.get("spec"))
    except ValidationError as exc:
        raise _Unusable(_validation_error(exc)) from None
    try:
        spec.check_against(profiles[index])
    except InputError as exc:
        raise _Unusable({"type": "UnknownColumn", "message": exc.user_message}) from None
    spec.title = title
    if spec.chart is not None:
        spec.chart.title = None
    explanation = explain(spec)
    if len(profiles) > 1:
        explanation += f" (from {profiles[index].name})"
    return Plan(spec=spec, table_index=index, explanation=explanation)


def _only_call(calls: Sequence[ToolCall]) -> ToolCall:
    if not calls:
        raise _Unusable(
            {
                "type": "NoToolCall",
                "message": f"Reply by calling {SPEC_TOOL} or {NEEDS_CODE_TOOL}.",
            }
        )
    return calls[0]


async def fill_spec(
    llm: LLMSession,
    question: str,
    profiles: Sequence[DatasetProfile],
    execute: Callable[[Plan], Awaitable[T]],
    *,
    history: Sequence[str] = (),
    references: Sequence[Reference] = (),
    previous: AnalysisSpec | None = None,
    title: str | None = None,
    max_repairs: int = 1,
) -> T | NeedsCode:
    """Ask for a spec and run it with ``execute``; repair up to ``max_repairs`` times.

    The plan's title is ``title`` (default: the question), whatever the model says.

    Raises :class:`QuestionNotUnderstoodError` when no usable spec came back, and lets
    provider errors (outage, refusal, budget) propagate untouched.
    """
    messages: list[ChatMessage] = spec_messages(
        question, profiles, history=history, references=references, previous=previous
    )
    last: dict[str, Any] = {}
    for attempt in range(1 + max_repairs):
        response = await llm.chat(
            "spec" if attempt == 0 else "spec_repair",
            messages,
            tools=spec_tools(),
            tool_choice="required",
            max_tokens=1500,
        )
        call: ToolCall | None = None
        try:
            call = _only_call(response.tool_calls)
            if call.name == NEEDS_CODE_TOOL:
                reason = " ".join(str(call.arguments.get("reason", "")).split())
                return NeedsCode(reason[:_MAX_REASON])
            plan = to_plan(call, profiles, title or question[:1].upper() + question[1:])
            try:
                return await execute(plan)
            except InputError as exc:  # e.g. a mean of a text column
                raise _Unusable({"type": "ExecutionError", "message": exc.user_message}) from None
        except _Unusable as problem:
            last = problem.error
            log.info("agents.spec_unusable", attempt=attempt + 1, kind=last.get("type"))
            echo = (
                assistant_echo(call.name, call.arguments)
                if call is not None
                else ChatMessage(role="assistant", content="(no tool call)")
            )
            messages = [*messages, echo, retry_message("That reply", last)]
    raise QuestionNotUnderstoodError(
        "I couldn't turn that question into an analysis I can run "
        f"({last.get('message', 'no usable answer')}). "
        "Try naming the columns and the calculation you want.",
        detail=f"spec fill gave up after {1 + max_repairs} attempts: {last.get('type')}",
    )
