"""What Nexus says in a thread: answers, ingest summaries and failures as ``Reply``.

Pure functions (no I/O), so every platform renders the same content and tests can
check it directly.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.answer import Answer
from core.datasets.models import DatasetProfile
from core.errors import UserFacingError
from core.events import (
    Citation,
    CitationsSegment,
    ConversationRef,
    ImageSegment,
    ReceiptSegment,
    Reply,
    Segment,
    TableSegment,
    TextSegment,
)

TABLE_ROWS = 20
"""Rows shown in chat; the receipt says how many exist."""

STOPPED = "Stopped."


def answer_reply(conversation: ConversationRef, answer: Answer, *, key: str) -> Reply:
    """Text, a table of at most :data:`TABLE_ROWS` rows, charts, then the receipt."""
    segments: list[Segment] = [TextSegment(text=answer.text)]
    result, receipt = answer.result, answer.receipt
    if result.kind == "table" and result.rows:
        shown = result.rows[:TABLE_ROWS]
        total = max(receipt.rows_total, len(result.rows))
        segments.append(
            TableSegment(
                columns=result.columns,
                rows=[list(row) for row in shown],
                truncated=total > len(shown),
                total_rows=total,
                title=answer.spec.title,
            )
        )
    for chart in answer.charts:
        segments.append(
            ImageSegment.from_png(
                chart.png, alt=answer.spec.title or "", file_name=f"{chart.name}.png"
            )
        )
    if answer.chart_notice:
        segments.append(TextSegment(text=answer.chart_notice))
    segments.append(
        ReceiptSegment(
            method=receipt.method,
            planner=receipt.planner,
            sources=[receipt.dataset_used],
            rows_used=receipt.rows_used,
            spec=receipt.spec if receipt.method == "spec" else None,
            code=receipt.code,
            model=receipt.model,
            tokens_in=receipt.tokens_in,
            tokens_out=receipt.tokens_out,
            cost_usd=receipt.cost_usd,
            duration_ms=round(sum(receipt.timings_ms.values())),
            cached=bool(receipt.llm_calls) and all(c.cached for c in receipt.llm_calls),
            notes=[receipt.explanation, *receipt.notes],
        )
    )
    return Reply(conversation=conversation, segments=segments, idempotency_key=key)


def _columns_phrase(profile: DatasetProfile, limit: int = 8) -> str:
    names = [c.name for c in profile.columns]
    shown = ", ".join(names[:limit])
    return shown + (f", … {len(names) - limit} more" if len(names) > limit else "")


def suggestion(profile: DatasetProfile) -> str:
    """A question the deterministic planner answers for this table."""
    numeric = [c.name for c in profile.columns if c.kind in ("numeric", "integer")]
    groups = [c.name for c in profile.columns if c.kind in ("categorical", "boolean")]
    if numeric and groups:
        return f"average {numeric[0]} by {groups[0]}"
    if numeric:
        return f"average {numeric[0]}"
    if groups:
        return f"count by {groups[0]}"
    return "how many rows are there"


def describe(profile: DatasetProfile) -> str:
    """``tips.csv: 244 rows × 7 columns (total_bill, tip, …)``."""
    return (
        f"{profile.name}: {profile.rows:,} rows × {len(profile.columns)} columns "
        f"({_columns_phrase(profile)})"
    )


def ingest_reply(
    conversation: ConversationRef,
    profiles: Sequence[DatasetProfile],
    *,
    key: str,
    documents: Sequence[str] = (),
) -> Reply:
    """``Got tips.csv: 244 rows × 7 columns (…). Ask me something like “average tip by day”.``

    ``documents``: one line per document indexed for search (see ``describe_document``).
    """
    lines = list(documents)
    if profiles:
        described = "; ".join(describe(p) for p in profiles)
        lines.insert(0, f"Got {described}. Ask me something like “{suggestion(profiles[0])}”.")
    if documents:
        lines.append("Ask me about them and I'll answer with references to the passages.")
    text = "\n".join(lines) or "I could not find any table in that file."
    return Reply.from_text(conversation, text, idempotency_key=key)


def describe_document(file_name: str, *, pages: int | None, passages: int, new: bool) -> str:
    """``Indexed policy.pdf: 12 pages, 40 passages.`` (or "already had" for a re-upload)."""
    size = f"{pages:,} pages, " if pages else ""
    verb = "Indexed" if new else "Already had"
    return f"{verb} {file_name}: {size}{passages:,} passages."


def document_reply(
    conversation: ConversationRef,
    text: str,
    citations: Sequence[Citation],
    receipt: ReceiptSegment,
    *,
    key: str,
) -> Reply:
    """A document answer: its text with [n] markers, the numbered sources, the receipt."""
    segments: list[Segment] = [TextSegment(text=text)]
    if citations:
        segments.append(CitationsSegment(citations=list(citations)))
    segments.append(receipt)
    return Reply(conversation=conversation, segments=segments, idempotency_key=key)


def failure_text(error: BaseException, *, reference: str, refunded: bool) -> str:
    """The user's words for a failed job: the specific reason, or a generic apology."""
    if isinstance(error, UserFacingError):
        text = error.user_message
        if refunded and not error.speaks_of_quota:
            text += " This was not counted against your quota."
        return text
    return (
        "Sorry, something went wrong on our side while answering that "
        f"(reference {reference}). It was not counted against your quota; please try again."
    )


def failure_reply(
    conversation: ConversationRef, error: BaseException, *, key: str, refunded: bool
) -> Reply:
    reference = key.rsplit(":", 1)[-1][:12]
    text = failure_text(error, reference=reference, refunded=refunded)
    return Reply.from_text(conversation, text, idempotency_key=key)
