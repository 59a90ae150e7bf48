"""Plain text and Word (.docx) documents to blocks under headings."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from core.documents.cleaning import SectionPath, clean_text, paragraphs
from core.documents.models import Block, DocumentKind, ExtractedDocument
from core.errors import MalformedFileError

# A short single line without closing punctuation, such as "3. Refunds" or "SCOPE",
# is read as a heading in plain text, which has no other way to mark one.
_TEXT_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Z][^\n]{0,78}$")
_DOCX_HEADING = re.compile(r"^(?:Heading|Title)\s*(\d*)$", re.IGNORECASE)


def read_text(text: str, file_name: str) -> ExtractedDocument:
    path = SectionPath()
    blocks: list[Block] = []
    for paragraph in paragraphs(text):
        if _TEXT_HEADING.match(paragraph) and not paragraph.endswith((".", ",", ";", "?", "!")):
            depth = paragraph.split(" ", 1)[0].count(".") if paragraph[0].isdigit() else 1
            path.enter(max(depth, 1), paragraph)
            blocks.append(Block(paragraph, section=path.current, heading=True))
        else:
            blocks.append(Block(paragraph, section=path.current))
    return ExtractedDocument(file_name, DocumentKind.TEXT, blocks)


def read_docx(data: bytes, file_name: str) -> ExtractedDocument:
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise MalformedFileError(
            f"{file_name} looks like a Word document but could not be opened. Save it "
            "again from Word (File → Save As → .docx) and upload it.",
            detail=repr(exc),
        ) from exc
    path = SectionPath()
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, DocxTable):
            for row in item.rows:
                cells = [clean_text(cell.text) for cell in row.cells]
                words = " | ".join(dict.fromkeys(c for c in cells if c))  # merged cells repeat
                if words:
                    blocks.append(Block(words, section=path.current))
            continue
        words = clean_text(item.text)
        if not words:
            continue
        level = _heading_level(item)
        if level is not None:
            path.enter(level, words)
        blocks.append(Block(words, section=path.current, heading=level is not None))
    return ExtractedDocument(file_name, DocumentKind.DOCX, blocks)


def _heading_level(paragraph: Paragraph) -> int | None:
    name = paragraph.style.name if paragraph.style is not None else ""
    match = _DOCX_HEADING.match(name or "")
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) else 1
