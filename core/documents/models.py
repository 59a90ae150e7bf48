"""The shapes of an extracted document: blocks of text, and the chunks cut from them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DocumentKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    MARKDOWN = "markdown"
    TEXT = "text"
    HTML = "html"


@dataclass(frozen=True)
class Block:
    """One paragraph (or heading, list item, table row) and where it stands."""

    text: str
    page: int | None = None
    """1-based page of a PDF; ``None`` for formats without pages."""
    section: str | None = None
    """The heading this block sits under (``"Refunds › Exceptions"``)."""
    heading: bool = False


@dataclass(frozen=True)
class ExtractedDocument:
    file_name: str
    kind: DocumentKind
    blocks: list[Block]
    pages: int | None = None


@dataclass(frozen=True)
class Chunk:
    """A piece of a document small enough to search and quote, with its place in it."""

    ordinal: int
    text: str
    page: int | None = None
    section: str | None = None

    @property
    def location(self) -> str | None:
        return location_of(self.page, self.section)


def location_of(page: int | None, section: str | None) -> str | None:
    """``p. 3 · Refunds`` (page and/or section), for citations."""
    parts = [f"p. {page}"] if page else []
    if section:
        parts.append(section)
    return " · ".join(parts) or None
