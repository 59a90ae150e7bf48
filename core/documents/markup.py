"""Markdown (markdown-it-py tokens) and HTML (BeautifulSoup) to blocks under headings."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt
from markdown_it.token import Token

from core.documents.cleaning import SectionPath, clean_text
from core.documents.models import Block, DocumentKind, ExtractedDocument

_HTML_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_HTML_BLOCKS = (*_HTML_HEADINGS, "p", "li", "pre", "blockquote", "tr", "dt", "dd", "figcaption")
_HTML_NOISE = ("script", "style", "noscript", "template", "svg", "nav")


def _inline_text(token: Token) -> str:
    """The words of an inline token, without Markdown markup (links keep their text)."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return clean_text("".join(parts))


def read_markdown(text: str, file_name: str) -> ExtractedDocument:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    path = SectionPath()
    blocks: list[Block] = []
    heading_level: int | None = None
    row: list[str] | None = None
    for token in tokens:
        if token.type == "heading_open":
            heading_level = int(token.tag[1])
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            if any(row):
                blocks.append(Block(" | ".join(row), section=path.current))
            row = None
        elif token.type == "inline":
            words = _inline_text(token)
            if row is not None:
                row.append(words)
            elif heading_level is not None:
                if words:
                    path.enter(heading_level, words)
                    blocks.append(Block(words, section=path.current, heading=True))
                heading_level = None
            elif words:
                blocks.append(Block(words, section=path.current))
        elif token.type in ("fence", "code_block") and token.content.strip():
            blocks.append(Block(clean_text(token.content), section=path.current))
    return ExtractedDocument(file_name, DocumentKind.MARKDOWN, blocks)


def read_html(text: str, file_name: str) -> ExtractedDocument:
    soup = BeautifulSoup(text, "html.parser")
    for noise in soup(list(_HTML_NOISE)):
        noise.decompose()
    path = SectionPath()
    blocks: list[Block] = []
    for element in soup.find_all(list(_HTML_BLOCKS)):
        if not isinstance(element, Tag) or _inside_block(element):
            continue  # its text is part of the enclosing block already
        if element.name == "tr":
            cells = [clean_text(c.get_text(" ")) for c in element.find_all(["td", "th"])]
            words = " | ".join(cell for cell in cells if cell)
        else:
            words = clean_text(element.get_text(" "))
        if not words:
            continue
        level = _HTML_HEADINGS.get(element.name)
        if level is not None:
            path.enter(level, words)
        blocks.append(Block(words, section=path.current, heading=level is not None))
    if not blocks:  # a page of bare text in <body> or <div>s
        body = soup.body or soup
        blocks = [Block(line) for line in map(clean_text, body.get_text("\n").split("\n")) if line]
    return ExtractedDocument(file_name, DocumentKind.HTML, blocks)


def _inside_block(element: Tag) -> bool:
    return any(parent.name in _HTML_BLOCKS for parent in element.parents)
