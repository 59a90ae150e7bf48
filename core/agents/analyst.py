"""The analyst agent: the one entry point the pipeline calls for a data question.

Order of escalation (design principle 4):

1. the deterministic planner (no LLM, no cost, no code);
2. the LLM fills the typed spec (forced tool call, validated, repaired at most
   ``max_spec_repairs`` times) and the engine executes it;
3. only when the LLM says a spec cannot express the question: a program, run in the
   sandbox, repaired on error at most ``max_repairs`` times.

Every answer goes through the reviewer. LLM calls share one deadline and are listed
with their tokens and cost on ``answer.receipt``.

Errors are the caller's signal: ``ProviderUnavailableError`` (every provider down,
with a user message saying so), ``ProviderRequestError``, ``QuotaExceededError``
(LLM budget), ``SandboxError`` / ``SandboxTimeoutError`` and
``QuestionNotUnderstoodError`` all carry a ``user_message`` to post. The quota the
pipeline reserved for the question is the pipeline's to refund when one is raised;
this layer never touches quotas.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.agents.calls import LLMSession
from core.agents.codegen import CodeAgent
from core.agents.datafiles import write_tables
from core.agents.followups import apply_followup
from core.agents.narrative import narrate
from core.agents.references import Reference, ReferenceLookup, references_note
from core.agents.results import FigureRenderer, code_answer
from core.agents.review import review, with_caveats
from core.agents.specfill import NeedsCode, fill_spec
from core.analysis.planner import Plan, explain
from core.analysis.spec import AnalysisSpec
from core.answer import Answer
from core.datasets.models import DatasetProfile, Table
from core.datasets.profile import profile_table
from core.engine import AnalysisEngine
from core.errors import (
    ProviderRequestError,
    ProviderUnavailableError,
    QuestionNotUnderstoodError,
    QuotaExceededError,
)
from core.llm.router import LLMRouter
from core.llm.types import Deadline
from core.sandbox.protocol import Sandbox


@dataclass(frozen=True)
class _Ask:
    """A question the LLM will work on, with what it is asked about."""

    tables: Sequence[Table]
    question: str
    profiles: Sequence[DatasetProfile]
    history: Sequence[str]
    session: str | None


_NO_CODE = " Answering it would need a generated program, which is not enabled here."


class Analyst:
    """Answers data questions and chart follow-ups; see the module docstring."""

    def __init__(
        self,
        *,
        engine: AnalysisEngine,
        router: LLMRouter | None = None,
        sandbox: Sandbox | None = None,
        renderer: FigureRenderer | None = None,
        max_repairs: int = 2,
        max_spec_repairs: int = 1,
        code_timeout_seconds: float | None = None,
        deadline_seconds: float = 120.0,
        chain: Sequence[str] | None = None,
        llm_narrative: bool = False,
        max_table_rows: int = 200,
        scratch_dir: Path | None = None,
    ) -> None:
        self._engine = engine
        self._router = router
        self._renderer = renderer
        self._coder: CodeAgent | None = None
        if sandbox is not None:
            self._coder = CodeAgent(
                sandbox=sandbox, max_repairs=max_repairs, timeout_seconds=code_timeout_seconds
            )
        self._max_spec_repairs = max_spec_repairs
        self._deadline_seconds = deadline_seconds
        self._chain = list(chain) if chain is not None else None
        self._llm_narrative = llm_narrative
        self._max_table_rows = max_table_rows
        self._scratch_dir = scratch_dir

    async def answer(
        self,
        tables: Sequence[Table],
        question: str,
        *,
        workspace: str,
        user: str | None = None,
        profiles: Sequence[DatasetProfile] | None = None,
        history: Sequence[str] = (),
        references: ReferenceLookup | None = None,
        session: str | None = None,
        deadline: Deadline | None = None,
    ) -> Answer:
        """Answer ``question`` from ``tables``; ``history`` is earlier questions, oldest first.

        ``references`` finds document passages for the question; it is only asked when
        the LLM is. ``session`` (workspace + thread) lets a sandbox backend reuse one
        sandbox per conversation.
        """
        known = list(profiles) if profiles is not None else await _profiles(tables)
        try:
            answer = await self._engine.answer(tables, question, profiles=known)
        except QuestionNotUnderstoodError:
            if self._router is None:
                raise
        else:
            return with_caveats(answer, review(answer, answer.spec))
        ask = _Ask(tables, question, known, history, session)
        return await self._by_llm(
            ask, self._session(workspace, user, deadline), references, title=question
        )

    async def answer_followup(
        self,
        tables: Sequence[Table],
        text: str,
        *,
        previous: AnalysisSpec,
        dataset: str | None,
        workspace: str,
        user: str | None = None,
        profiles: Sequence[DatasetProfile] | None = None,
        history: Sequence[str] = (),
        references: ReferenceLookup | None = None,
        session: str | None = None,
        deadline: Deadline | None = None,
    ) -> Answer:
        """Edit the previous answer's spec (``previous``, computed on table ``dataset``).

        Deterministic edits make no LLM call; otherwise the LLM edits the spec. Only
        pass specs of ``receipt.method == "spec"`` answers: code answers have none.
        """
        if not tables:
            raise QuestionNotUnderstoodError("There is no data in this thread to redraw.")
        index = next((i for i, t in enumerate(tables) if t.name == dataset), 0)
        edited = await asyncio.to_thread(apply_followup, previous, text, table=tables[index])
        if edited is not None:
            plan = Plan(edited, index, explain(edited))
            answer = await self._engine.answer_plan(tables, edited.title or text, plan)
            return with_caveats(answer, review(answer, edited))
        if self._router is None:
            raise QuestionNotUnderstoodError(
                "I couldn't read that as a change to the previous answer. Try, e.g., "
                '"make it a line chart", "log scale", "only 2007" or "top 10".'
            )
        known = list(profiles) if profiles is not None else await _profiles(tables)
        ask = _Ask(tables, text, known, history, session)
        llm = self._session(workspace, user, deadline)
        return await self._by_llm(ask, llm, references, previous=previous)

    async def _by_llm(
        self,
        ask: _Ask,
        llm: LLMSession,
        references: ReferenceLookup | None,
        *,
        previous: AnalysisSpec | None = None,
        title: str | None = None,
    ) -> Answer:
        """The LLM fills (or edits) a spec, or writes a program when a spec can't do."""
        passages = list(await references(ask.question)) if references is not None else []

        async def execute(plan: Plan) -> Answer:
            shown = title or plan.spec.title or ask.question
            return await self._engine.answer_plan(ask.tables, shown, plan)

        outcome = await fill_spec(
            llm,
            ask.question,
            ask.profiles,
            execute,
            history=ask.history,
            references=passages,
            previous=previous,
            title=None if previous is None else previous.title,
            max_repairs=self._max_spec_repairs,
        )
        if isinstance(outcome, NeedsCode):
            answer = await self._by_code(llm, ask, passages, outcome)
        else:
            answer = await self._finish_spec(llm, ask.question, outcome)
        return _noting(answer, passages)

    def _session(self, workspace: str, user: str | None, deadline: Deadline | None) -> LLMSession:
        assert self._router is not None
        return LLMSession(
            router=self._router,
            workspace=workspace,
            user=user,
            deadline=deadline or Deadline.within(self._deadline_seconds),
            chain=self._chain,
        )

    async def _finish_spec(self, llm: LLMSession, question: str, answer: Answer) -> Answer:
        answer.receipt = answer.receipt.model_copy(update={"planner": "llm"})
        answer = with_caveats(answer, review(answer, answer.spec))
        return await self._narrate(llm, question, answer)

    async def _by_code(
        self, llm: LLMSession, ask: _Ask, passages: Sequence[Reference], needs: NeedsCode
    ) -> Answer:
        if self._coder is None:
            raise QuestionNotUnderstoodError(
                "I can't answer that with a standard analysis." + _NO_CODE,
                detail=f"needs code: {needs.reason}",
            )
        with tempfile.TemporaryDirectory(prefix="nexus-code-", dir=self._scratch_dir) as tmp:
            files = await asyncio.to_thread(write_tables, ask.tables, Path(tmp))
            run = await self._coder.run(
                llm,
                ask.question,
                ask.profiles,
                files,
                rows_in=sum(len(t.frame) for t in ask.tables),
                history=ask.history,
                references=passages,
                reason=needs.reason,
                session=ask.session,
            )
        answer = await code_answer(
            run.output,
            question=ask.question,
            tables=ask.tables,
            code=run.code,
            explanation=run.explanation,
            renderer=self._renderer,
            max_rows=self._max_table_rows,
            timings_ms=run.timings_ms,
        )
        answer = with_caveats(answer, review(answer, None))
        return await self._narrate(llm, ask.question, answer)

    async def _narrate(self, llm: LLMSession, question: str, answer: Answer) -> Answer:
        if self._llm_narrative:
            try:
                text = await narrate(llm, question, answer)
            except (ProviderUnavailableError, ProviderRequestError, QuotaExceededError):
                text = None  # the answer is computed; the plain narrative will do
            if text is not None:
                notes = " ".join(answer.receipt.notes)
                answer.text = f"{text} {notes}".strip()
        answer.receipt = llm.stamp(answer.receipt)
        return answer


def _noting(answer: Answer, references: Sequence[Reference]) -> Answer:
    """The answer, its receipt naming the documents the model was shown."""
    note = references_note(references)
    if note is not None:
        notes = [*answer.receipt.notes, note]
        answer.receipt = answer.receipt.model_copy(update={"notes": notes})
    return answer


async def _profiles(tables: Sequence[Table]) -> list[DatasetProfile]:
    return await asyncio.to_thread(lambda: [profile_table(t) for t in tables])
