"""A question in a thread that holds documents: is it for them, and its cited reply.

Called by :class:`core.answering.Answerer` before the tabular path, which may then
take passages from the same documents as context (:func:`references_for`). The router agent's
keyword rules decide (an LLM only settles a thread holding both tables and documents
with no cue either way); a document question is answered from the documents the
asker can see, anything else goes on to the analyst.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from core.agents import route_message
from core.agents.calls import LLMSession
from core.agents.references import Reference, ReferenceLookup
from core.agents.routing import classify_message
from core.errors import ProviderUnavailableError, StorageError, UserFacingError
from core.events import Inbound, ReceiptSegment, Reply
from core.llm.router import LLMRouter
from core.logging import get_logger
from core.replies import document_reply
from core.retrieval.library import DocumentLibrary

log = get_logger("retrieval.questions")


@dataclass(frozen=True)
class ThreadState:
    has_datasets: bool
    has_previous_answer: bool
    documents_attached: bool = False
    """Documents came with this very message: the question is about them."""


async def answer_if_documents(
    library: DocumentLibrary,
    router: LLMRouter | None,
    inbound: Inbound,
    question: str,
    state: ThreadState,
    *,
    key: str,
) -> tuple[Reply, dict[str, Any]] | None:
    """The cited reply and its history record, or None when this is not for documents."""
    started = time.perf_counter()
    ws, channel, thread = inbound.workspace, inbound.channel_id, inbound.thread_id
    catalogue = await library.catalogue(ws, channel, thread)
    if not catalogue:
        return None
    llm = None if router is None else LLMSession(router, ws, inbound.actor_id)
    if not state.documents_attached:
        kind = await _route(question, state, llm)
        if kind != "document_question":
            return None
    found = await library.ask(question, workspace=ws, channel=channel, thread=thread, llm=llm)
    answer = found.answer
    calls = answer.llm_calls
    receipt = ReceiptSegment(
        method="retrieval",
        sources=list(dict.fromkeys(c.title for c in answer.citations)),
        model=calls[-1].model if calls else None,
        tokens_in=sum(c.tokens_in for c in calls),
        tokens_out=sum(c.tokens_out for c in calls),
        cost_usd=sum(c.cost_usd for c in calls),
        duration_ms=round((time.perf_counter() - started) * 1000),
        cached=bool(calls) and all(c.cached for c in calls),
        notes=[
            f"{found.search.mode} search over {len(found.documents)} document(s) "
            f"in {found.search.elapsed_ms:.0f} ms",
            *answer.notes,
        ],
    )
    reply = document_reply(inbound.conversation(), answer.text, answer.citations, receipt, key=key)
    record = {"method": "retrieval", "found": answer.found, "sources": receipt.sources}
    return reply, record


def references_for(
    library: DocumentLibrary, inbound: Inbound, *, limit: int = 3
) -> ReferenceLookup:
    """The passages of this thread's documents that a data question may rely on."""

    async def lookup(question: str) -> list[Reference]:
        try:
            result, _ = await library.find(
                question,
                workspace=inbound.workspace,
                channel=inbound.channel_id,
                thread=inbound.thread_id,
                limit=limit,
            )
        except (StorageError, ProviderUnavailableError) as exc:
            # Context is a help, not a requirement: the analysis goes on without it.
            log.warning("analysis_context_unavailable", error=type(exc).__name__)
            return []
        return [
            Reference(f"{p.file_name}, {p.location}" if p.location else p.file_name, p.text)
            for p in result.passages
        ]

    return lookup


async def _route(question: str, state: ThreadState, llm: LLMSession | None) -> str:
    facts = {
        "has_datasets": state.has_datasets,
        "has_previous_answer": state.has_previous_answer,
        "has_documents": True,
    }
    try:
        return (await route_message(question, llm=llm, **facts)).kind
    except UserFacingError as exc:  # the LLM could not settle it: the rules' guess stands
        log.warning("route_llm_failed", error=type(exc).__name__)
        return classify_message(question, **facts).kind
