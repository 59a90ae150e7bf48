"""Pure rendering of a :class:`~core.events.Reply` into Discord messages.

One reply becomes one or more :class:`OutMessage` values, each within Discord's
limits: content ≤ 2000 characters, ≤ 10 embeds and ≤ 6000 embed characters per
message, description ≤ 4096, ≤ 25 fields (name ≤ 256, value ≤ 1024), footer ≤ 2048,
≤ 10 files. The layout puts the summary in an embed with the first chart shown
inside it (``attachment://chart.png``), the table as a code block in the content
(wider than an embed), then sources and the receipt as embeds. Anything that does
not fit the first message flows into follow-ups, in order.

Embeds are plain dicts in Discord's wire shape; the I/O class turns them into
discord.py objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.events import (
    CitationsSegment,
    FileSegment,
    ImageSegment,
    ReceiptSegment,
    Reply,
    TableSegment,
)

CONTENT_MAX = 2000
DESCRIPTION_MAX = 4096
EMBEDS_TOTAL_MAX = 6000
EMBEDS_PER_MESSAGE = 10
FILES_PER_MESSAGE = 10
FIELDS_MAX = 25
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
CELL_MAX = 32
COLOR = 0x5865F2
EMPTY_REPLY = "Done."

Embed = dict[str, Any]

_METHODS = {
    "spec": "Deterministic analysis (no LLM)",
    "llm_spec": "LLM-planned analysis",
    "code": "Sandboxed code",
    "retrieval": "Document search",
    "none": "None",
}


@dataclass(frozen=True)
class OutFile:
    name: str
    data: bytes


@dataclass
class OutMessage:
    content: str | None = None
    embeds: list[Embed] = field(default_factory=list)
    files: list[OutFile] = field(default_factory=list)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = CONTENT_MAX) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a newline or space when possible."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def embed_size(embed: Embed) -> int:
    """Characters Discord counts toward the 6000 per-message total."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len((embed.get("footer") or {}).get("text", ""))
    size += len((embed.get("author") or {}).get("name", ""))
    return size + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))


def _cell(value: object) -> str:
    text = "" if value is None else f"{value:,.4g}" if isinstance(value, float) else str(value)
    return clip(text.replace("\n", " ").replace("`", "'"), CELL_MAX)


def table_blocks(table: TableSegment, limit: int = CONTENT_MAX) -> list[str]:
    """The table as aligned code blocks, each a complete block within ``limit``."""
    grid = [[_cell(c) for c in table.columns], *([_cell(c) for c in row] for row in table.rows)]
    widths = [max(len(row[i]) for row in grid) for i in range(len(table.columns))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in grid
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    title = f"**{clip(table.title, 200)}**\n" if table.title else ""
    budget = limit - len("```\n\n```") - len(title)
    lines = [clip(line, budget) for line in lines]
    blocks: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > budget:
            blocks.append("```\n" + "\n".join(current) + "\n```")
            current = []
        current.append(line)
    blocks.append("```\n" + "\n".join(current) + "\n```")
    blocks[0] = title + blocks[0]
    if table.truncated:
        blocks.append(
            f"Showing {len(table.rows):,} of {table.total_rows or len(table.rows):,} rows."
        )
    return blocks


def receipt_embed(receipt: ReceiptSegment) -> Embed:
    fields: list[dict[str, Any]] = [
        {"name": "Method", "value": _METHODS.get(receipt.method, receipt.method), "inline": True}
    ]

    def add(name: str, value: str | None, inline: bool = True) -> None:
        if value:
            fields.append({"name": name, "value": clip(value, FIELD_VALUE_MAX), "inline": inline})

    add("Sources", ", ".join(receipt.sources))
    add("Rows used", f"{receipt.rows_used:,}" if receipt.rows_used is not None else None)
    add("Model", receipt.model)
    if receipt.tokens_in or receipt.tokens_out:
        add("Tokens", f"{receipt.tokens_in:,} in / {receipt.tokens_out:,} out")
    add("Cost", f"${receipt.cost_usd:.4f}" if receipt.cost_usd else None)
    add("Time", f"{receipt.duration_ms / 1000:.1f} s" if receipt.duration_ms is not None else None)
    add("Cached", "yes" if receipt.cached else None)
    if receipt.spec:
        add(
            "Spec",
            "```json\n" + clip(_compact(receipt.spec), FIELD_VALUE_MAX - 12) + "\n```",
            False,
        )
    if receipt.code:
        add("Code", "```py\n" + clip(receipt.code, FIELD_VALUE_MAX - 10) + "\n```", False)
    embed: Embed = {"title": "Receipt", "color": COLOR, "fields": fields[:FIELDS_MAX]}
    notes = " · ".join(n for n in receipt.notes if n)
    if notes:
        embed["footer"] = {"text": clip(notes, FOOTER_MAX)}
    return embed


def _compact(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False, default=str)


def citations_embed(segment: CitationsSegment) -> Embed:
    lines = []
    for n, c in enumerate(segment.citations, 1):
        title = f"[{clip(c.title, 200)}]({c.url})" if c.url else f"**{clip(c.title, 200)}**"
        where = f" ({c.location})" if c.location else ""
        snippet = f" — {clip(c.snippet, 200)}" if c.snippet else ""
        lines.append(f"{n}. {title}{where}{snippet}")
    return {
        "title": "Sources",
        "color": COLOR,
        "description": clip("\n".join(lines), DESCRIPTION_MAX),
    }


def render_reply(reply: Reply, blobs: Mapping[str, bytes] | None = None) -> list[OutMessage]:
    """The messages that carry ``reply``; ``blobs`` holds bytes of blob-key payloads."""
    blobs = blobs or {}
    text = reply.text.strip()
    content: list[str] = []
    embeds: list[Embed] = []
    images: list[OutFile] = []
    others: list[OutFile] = []
    summary: Embed = {"color": COLOR}
    if len(text) <= DESCRIPTION_MAX:
        if text:
            summary["description"] = text
    else:
        content.extend(split_text(text))
    for seg in reply.segments:
        if isinstance(seg, TableSegment):
            content.extend(table_blocks(seg))
        elif isinstance(seg, ImageSegment | FileSegment):
            data = seg.inline_bytes()
            out = OutFile(seg.file_name, data if data is not None else blobs[seg.blob_key or ""])
            (images if isinstance(seg, ImageSegment) else others).append(out)
        elif isinstance(seg, CitationsSegment) and seg.citations:
            embeds.append(citations_embed(seg))
        elif isinstance(seg, ReceiptSegment):
            embeds.append(receipt_embed(seg))
    if images:
        # Images go first, so the one the summary shows is in the first message.
        summary["image"] = {"url": f"attachment://{images[0].name}"}
    if len(summary) > 1:
        embeds.insert(0, summary)
    return pack(content, embeds, images + others)


def pack(content: list[str], embeds: list[Embed], files: list[OutFile]) -> list[OutMessage]:
    """Fill messages in order: joined content pieces, then embeds and files that fit."""
    messages: list[OutMessage] = []
    content, embeds, files = list(content), list(embeds), list(files)
    while content or embeds or files or not messages:
        msg = OutMessage()
        if content and len(content[0]) > CONTENT_MAX:  # never loop on an oversized piece
            content[0:1] = split_text(content[0])
        while (
            content
            and len("\n".join([*([msg.content] if msg.content else []), content[0]])) <= CONTENT_MAX
        ):
            piece = content.pop(0)
            msg.content = f"{msg.content}\n{piece}" if msg.content else piece
        used = 0
        while (
            embeds
            and len(msg.embeds) < EMBEDS_PER_MESSAGE
            and used + embed_size(embeds[0]) <= EMBEDS_TOTAL_MAX
        ):
            used += embed_size(embeds[0])
            msg.embeds.append(embeds.pop(0))
        while files and len(msg.files) < FILES_PER_MESSAGE:
            msg.files.append(files.pop(0))
        if msg.content is None and not msg.embeds and not msg.files:
            msg.content = EMPTY_REPLY  # Discord rejects an empty message
        messages.append(msg)
    return messages
