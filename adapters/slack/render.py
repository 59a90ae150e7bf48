"""A :class:`core.events.Reply` as Slack calls, expressed as data (pure, no I/O).

One reply becomes one or more ``chat.postMessage`` calls carrying Block Kit (text,
a compact table as a code block, citations, the receipt as a context block) and,
after them, one ``files_upload_v2`` per chart or file, so the chart lands under the
answer it illustrates. Slack's limits shape the split: 3,000 characters per
section text, 50 blocks per message, 40,000 characters of text per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
MAX_BLOCKS = 50
MESSAGE_TEXT_LIMIT = 40_000
FALLBACK_TEXT_LIMIT = 3000
"""The top-level ``text`` is only the notification preview when blocks are sent."""
TABLE_MAX_ROWS = 20
TABLE_CELL_WIDTH = 28

Block = dict[str, Any]


@dataclass(frozen=True)
class PostMessage:
    """``chat.postMessage`` into the reply's thread."""

    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class UploadFile:
    """``files_upload_v2`` into the reply's thread (bytes inline or by blob key)."""

    file_name: str
    title: str
    alt: str
    data_base64: str | None
    blob_key: str | None


SlackCall = PostMessage | UploadFile


def render_reply(reply: Reply) -> list[SlackCall]:
    """Messages first (in segment order), then uploads (in segment order)."""
    blocks: list[Block] = []
    uploads: list[UploadFile] = []
    for segment in reply.segments:
        if isinstance(segment, TextSegment):
            blocks.extend(_section(chunk) for chunk in split_text(to_mrkdwn(segment.text)))
        elif isinstance(segment, TableSegment):
            blocks.extend(table_blocks(segment))
        elif isinstance(segment, CitationsSegment):
            blocks.extend(citation_blocks(segment))
        elif isinstance(segment, ReceiptSegment):
            blocks.append(_context(receipt_text(segment)))
        elif isinstance(segment, ImageSegment):
            title = segment.alt or "Chart"
            uploads.append(
                UploadFile(
                    segment.file_name, title, segment.alt, segment.data_base64, segment.blob_key
                )
            )
        elif isinstance(segment, FileSegment):
            uploads.append(
                UploadFile(
                    segment.file_name, segment.file_name, "", segment.data_base64, segment.blob_key
                )
            )
    messages: list[SlackCall] = [
        PostMessage(text=fallback_text(reply, group), blocks=group)
        for group in group_blocks(blocks)
    ]
    return [*messages, *uploads]


def fallback_text(reply: Reply, blocks: list[Block]) -> str:
    """Notification text: the reply's words, else whatever the first block says."""
    text = reply.text
    if not text and blocks:
        first = blocks[0]
        text = (first.get("text") or {}).get("text") or first["elements"][0]["text"]
    return _clip(text or "Nexus replied.", FALLBACK_TEXT_LIMIT)


def group_blocks(blocks: list[Block]) -> list[list[Block]]:
    """Pack blocks into messages of at most 50 blocks and 40k characters."""
    groups: list[list[Block]] = []
    size = 0
    for block in blocks:
        length = _block_chars(block)
        if not groups or len(groups[-1]) >= MAX_BLOCKS or size + length > MESSAGE_TEXT_LIMIT:
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += length
    return groups


def split_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Chunks of at most ``limit`` characters, cut at a paragraph, line or word
    boundary when one exists; a code fence cut in two is closed and reopened."""
    chunks: list[str] = []
    rest = text.strip()
    budget = limit - 8  # room to close and reopen a ``` fence
    while len(rest) > budget:
        window = rest[:budget]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > budget // 2 else budget
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip(" \n") if cut < budget else rest[cut:]
    if rest:
        chunks.append(rest)
    return _balance_fences(chunks)


def _balance_fences(chunks: list[str]) -> list[str]:
    balanced: list[str] = []
    open_fence = False
    for chunk in chunks:
        if open_fence:
            chunk = "```\n" + chunk
        open_fence = chunk.count("```") % 2 == 1
        balanced.append(chunk + "\n```" if open_fence else chunk)
    return balanced


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)


def to_mrkdwn(text: str) -> str:
    """Markdown-ish core text as Slack mrkdwn: entities escaped, ``**bold**`` →
    ``*bold*``, ``[t](url)`` → ``<url|t>``, headings bold."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    text = _HEADING.sub(lambda m: f"*{m.group(1).strip()}*", text)
    return _BOLD.sub(r"*\1*", text)


def format_cell(value: TableCell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    text = " ".join(str(value).split())
    return text if len(text) <= TABLE_CELL_WIDTH else text[: TABLE_CELL_WIDTH - 1] + "…"


def table_lines(table: TableSegment, max_rows: int = TABLE_MAX_ROWS) -> list[str]:
    """Aligned monospace lines: header, rule, then rows (numbers right-aligned)."""
    rows = [[format_cell(c) for c in row] for row in table.rows[:max_rows]]
    header = [format_cell(c) for c in table.columns]
    numeric = [
        all(
            isinstance(r[i], int | float) and not isinstance(r[i], bool)
            for r in table.rows[:max_rows]
        )
        for i in range(len(header))
    ]
    widths = [max([len(header[i]), *(len(r[i]) for r in rows)]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def table_blocks(table: TableSegment) -> list[Block]:
    """The table as one code block that fits a section, plus a note if cut short."""
    lines = table_lines(table)
    shown = len(lines) - 2
    title = f"*{to_mrkdwn(table.title)}*\n" if table.title else ""
    while lines and len(title) + sum(len(x) + 1 for x in lines) + 8 > SECTION_TEXT_LIMIT:
        lines.pop()
        shown -= 1
    body = "\n".join(lines).replace("```", "'''")
    blocks: list[Block] = [_section(f"{title}```\n{body}\n```")]
    total = table.total_rows if table.total_rows is not None else len(table.rows)
    if shown < total or table.truncated:
        blocks.append(_context(f"Showing {max(shown, 0):,} of {total:,} rows."))
    return blocks


def citation_blocks(citations: CitationsSegment) -> list[Block]:
    lines = []
    for number, cite in enumerate(citations.citations, start=1):
        title = to_mrkdwn(cite.title)
        title = f"<{cite.url}|{title}>" if cite.url else f"*{title}*"
        where = f" ({to_mrkdwn(cite.location)})" if cite.location else ""
        snippet = f" — “{to_mrkdwn(_clip(cite.snippet, 300))}”" if cite.snippet else ""
        lines.append(f"[{number}] {title}{where}{snippet}")
    return [_section(chunk) for chunk in split_text("\n".join(lines))] if lines else []


_METHODS = {
    "spec": "deterministic analysis (no LLM)",
    "llm_spec": "analysis planned by an LLM",
    "code": "generated code, run in a sandbox",
    "retrieval": "document search",
}


def receipt_text(receipt: ReceiptSegment) -> str:
    """One line: how, from what, at which cost and speed."""
    parts: list[str] = []
    if receipt.method in _METHODS:
        parts.append(_METHODS[receipt.method])
    if receipt.sources:
        parts.append("from " + ", ".join(to_mrkdwn(s) for s in receipt.sources))
    if receipt.rows_used is not None:
        parts.append(f"{receipt.rows_used:,} rows")
    if receipt.model:
        parts.append(to_mrkdwn(receipt.model))
    if receipt.tokens_in or receipt.tokens_out:
        parts.append(f"{receipt.tokens_in + receipt.tokens_out:,} tokens")
    if receipt.cost_usd:
        parts.append(f"${receipt.cost_usd:.4f}")
    if receipt.duration_ms is not None:
        parts.append(f"{receipt.duration_ms / 1000:.1f} s")
    if receipt.cached:
        parts.append("cached")
    parts.extend(to_mrkdwn(note) for note in receipt.notes)
    return _clip(" · ".join(parts) or "answered", CONTEXT_TEXT_LIMIT)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _block_chars(block: Block) -> int:
    if "text" in block:
        return len(block["text"]["text"])
    return sum(len(element.get("text", "")) for element in block.get("elements", []))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
