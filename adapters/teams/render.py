"""A :class:`core.events.Reply` as Bot Framework activities (pure, no I/O).

- Words only (refusals, ingest summaries, failures): one markdown text message.
- An answer (a table, sources or a receipt): one Adaptive Card 1.5 with the summary,
  the table as a native ``Table``, the sources and the receipt as a ``FactSet``.
- Each chart: its own activity after the text, an inline ``image/png`` data URI.
  Teams splits a message that mixes text and an attachment (and then returns no id),
  so text and images never share an activity.

Limits: a message is at most ~100 KB of JSON (base64 images excluded) and cards are
reported to fail above ~28 KB, so cards are built within :data:`CARD_BUDGET` bytes by
dropping table rows (and saying so) and long text is split into several messages.
Images are fitted to 1024×1024 / 1 MB by the sender (:mod:`.images`), which may
have to read them from the blob store first.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from core.analysis.narrative import format_number
from core.events import (
    CitationsSegment,
    FileSegment,
    ImageSegment,
    ReceiptSegment,
    Reply,
    TableCell,
    TableSegment,
    TextSegment,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_BUDGET = 24_000
"""Bytes of card JSON; below the ~28 KB where Teams is reported to drop cards."""
TEXT_CHUNK = 20_000
"""Characters per text message: 80 KB of UTF-8 at worst, under the ~100 KB limit."""
SUMMARY_CHARS = 200

ActivityJson = dict[str, Any]
Element = dict[str, Any]

_METHODS = {
    "spec": "Deterministic analysis (no LLM)",
    "llm_spec": "Analysis planned by an LLM",
    "code": "Generated code in a sandbox",
    "retrieval": "Document search",
    "none": "None",
}


@dataclass(frozen=True)
class ImagePost:
    """A chart to post as its own activity once its bytes are at hand."""

    segment: ImageSegment


TeamsPost = ActivityJson | ImagePost


def render_reply(reply: Reply) -> list[TeamsPost]:
    """Text (or the card) first, then one activity per chart, in segment order."""
    images = [ImagePost(s) for s in reply.segments if isinstance(s, ImageSegment)]
    rich = any(
        isinstance(s, TableSegment | ReceiptSegment | CitationsSegment | FileSegment)
        for s in reply.segments
    )
    posts: list[ActivityJson] = [card_activity(reply)] if rich else text_activities(reply.text)
    return [*posts, *images]


def text_activities(text: str) -> list[ActivityJson]:
    rest = text.strip() or "Done."
    chunks: list[str] = []
    while len(rest) > TEXT_CHUNK:
        # Cut at a line or word boundary in the second half of the chunk, if any.
        cut = max(rest.rfind("\n", 0, TEXT_CHUNK), rest.rfind(" ", 0, TEXT_CHUNK))
        cut = cut if cut > TEXT_CHUNK // 2 else TEXT_CHUNK
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    chunks.append(rest)
    return [{"type": "message", "text": chunk, "textFormat": "markdown"} for chunk in chunks]


def image_activity(png: bytes, *, name: str, alt: str) -> ActivityJson:
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    attachment = {"contentType": "image/png", "contentUrl": url, "name": name}
    return {"type": "message", "attachments": [attachment], "summary": alt or name}


def card_activity(reply: Reply) -> ActivityJson:
    """The answer as one Adaptive Card, shrunk to :data:`CARD_BUDGET`."""
    rows_shown = max(
        (len(s.rows) for s in reply.segments if isinstance(s, TableSegment)), default=0
    )
    card = _card(reply, rows_shown)
    while len(json.dumps(card)) > CARD_BUDGET and rows_shown > 0:
        rows_shown = rows_shown // 2 if rows_shown > 8 else rows_shown - 1
        card = _card(reply, rows_shown)
    summary = " ".join(reply.text.split())[:SUMMARY_CHARS] or "Nexus answered."
    attachment = {"contentType": CARD_CONTENT_TYPE, "content": card}
    return {"type": "message", "summary": summary, "attachments": [attachment]}


def _card(reply: Reply, max_rows: int) -> Element:
    body: list[Element] = []
    for segment in reply.segments:
        if isinstance(segment, TextSegment):
            body.append(_text_block(_clip(segment.text, TEXT_CHUNK // 4)))
        elif isinstance(segment, TableSegment):
            body.extend(table_elements(segment, max_rows))
        elif isinstance(segment, CitationsSegment):
            body.extend(citation_elements(segment))
        elif isinstance(segment, ReceiptSegment):
            body.extend(receipt_elements(segment))
        elif isinstance(segment, FileSegment):
            note = f"{segment.file_name} is not attached: Teams does not take files from bots."
            body.append(_text_block(note, subtle=True))
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "msteams": {"width": "Full"},
        "body": body,
    }


def _numeric(table: TableSegment, column: int) -> bool:
    values = [row[column] for row in table.rows if row[column] is not None]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def _cell(value: TableCell, *, bold: bool = False) -> Element:
    text = "" if value is None else format_number(value)
    block = _text_block(text)
    if bold:
        block["weight"] = "Bolder"
    return {"type": "TableCell", "items": [block]}


def table_elements(table: TableSegment, max_rows: int) -> list[Element]:
    """A title, a native Table (numbers right-aligned) and a "showing n of N" note."""
    shown = table.rows[:max_rows]
    columns = [
        {"width": 1, "horizontalCellContentAlignment": "Right" if _numeric(table, i) else "Left"}
        for i in range(len(table.columns))
    ]
    header = {"type": "TableRow", "cells": [_cell(c, bold=True) for c in table.columns]}
    rows = [{"type": "TableRow", "cells": [_cell(v) for v in row]} for row in shown]
    elements: list[Element] = []
    if table.title:
        elements.append({**_text_block(table.title), "weight": "Bolder"})
    elements.append(
        {
            "type": "Table",
            "firstRowAsHeader": True,
            "gridStyle": "accent",
            "columns": columns,
            "rows": [header, *rows],
        }
    )
    total = table.total_rows if table.total_rows is not None else len(table.rows)
    if len(shown) < total or table.truncated:
        elements.append(_text_block(f"Showing {len(shown):,} of {total:,} rows.", subtle=True))
    return elements


def citation_elements(citations: CitationsSegment) -> list[Element]:
    lines = []
    for number, cite in enumerate(citations.citations, start=1):
        title = f"[{cite.title}]({cite.url})" if cite.url else f"**{cite.title}**"
        where = f" ({cite.location})" if cite.location else ""
        snippet = f" — “{_clip(cite.snippet, 300)}”" if cite.snippet else ""
        lines.append(f"{number}. {title}{where}{snippet}")
    if not lines:
        return []
    return [{**_text_block("Sources"), "weight": "Bolder"}, _text_block("\n".join(lines))]


def receipt_elements(receipt: ReceiptSegment) -> list[Element]:
    """How the answer was made, as label/value facts (only those that apply)."""
    facts = [("Method", _METHODS.get(receipt.method, receipt.method))]
    if receipt.sources:
        facts.append(("Sources", ", ".join(receipt.sources)))
    if receipt.rows_used is not None:
        facts.append(("Rows", f"{receipt.rows_used:,}"))
    if receipt.model:
        facts.append(("Model", receipt.model))
    if receipt.tokens_in or receipt.tokens_out:
        facts.append(("Tokens", f"{receipt.tokens_in:,} in / {receipt.tokens_out:,} out"))
    if receipt.cost_usd:
        facts.append(("Cost", f"${receipt.cost_usd:.4f}"))
    if receipt.duration_ms is not None:
        facts.append(
            ("Time", f"{receipt.duration_ms / 1000:.1f} s" + (" (cached)" * receipt.cached))
        )
    elements: list[Element] = [
        {
            "type": "FactSet",
            "separator": True,
            "spacing": "Medium",
            "facts": [{"title": title, "value": value} for title, value in facts],
        }
    ]
    notes = [n for n in receipt.notes if n.strip()]
    if notes:
        elements.append(_text_block(_clip(" ".join(notes), 1000), subtle=True))
    return elements


def _text_block(text: str, *, subtle: bool = False) -> Element:
    block: Element = {"type": "TextBlock", "text": text, "wrap": True}
    if subtle:
        block.update(isSubtle=True, size="Small")
    return block


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
