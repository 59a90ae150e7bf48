"""Text cleanup shared by every extractor: what PDF and HTML text needs before search."""

from __future__ import annotations

import re
import unicodedata

_HYPHENATED = re.compile(r"(\w)-\n(\w)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def clean_text(text: str) -> str:
    """One paragraph's text on one line: NFKC (ligatures "ﬁ" → "fi"), line-end hyphens
    joined ("infor-\\nmation"), control and soft-hyphen characters removed, runs of
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = _HYPHENATED.sub(r"\1\2", text)
    text = _CONTROL.sub("", text)
    return _SPACES.sub(" ", text.replace("\r", "\n").replace("\n", " ")).strip()


def paragraphs(text: str) -> list[str]:
    """Cleaned paragraphs of free text separated by blank lines (empty ones dropped)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    cleaned = (clean_text(part) for part in _PARAGRAPH_BREAK.split(text))
    return [part for part in cleaned if part]


class SectionPath:
    """The headings above the current block: ``h1 › h2 › h3``, as a document nests them."""

    def __init__(self) -> None:
        self._levels: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        while self._levels and self._levels[-1][0] >= level:
            self._levels.pop()
        self._levels.append((level, title))

    @property
    def current(self) -> str | None:
        return " › ".join(title for _, title in self._levels) or None
