"""From an upload's bytes to an :class:`ExtractedDocument`, with the document limits."""

from __future__ import annotations

from core.datasets.guards import format_bytes
from core.datasets.sniff import DESCRIPTIONS, DOCUMENT_KINDS, FileKind, detect_encoding, sniff
from core.documents.markup import read_html, read_markdown
from core.documents.models import ExtractedDocument
from core.documents.pdf import read_pdf
from core.documents.plain import read_docx, read_text
from core.errors import FileTooLargeError, MalformedFileError, UnsupportedFileError
from core.settings import DocumentLimits

SUPPORTED = "PDF, Word (.docx), Markdown, plain text or HTML"


def is_document(data: bytes, file_name: str) -> bool:
    """True for the kinds read here rather than as a table."""
    return sniff(data, file_name) in DOCUMENT_KINDS


def read_document(data: bytes, file_name: str, limits: DocumentLimits) -> ExtractedDocument:
    """The document's text as blocks; raises a user-facing error for anything unreadable."""
    if len(data) > limits.max_bytes:
        raise FileTooLargeError(
            f"{file_name} is {format_bytes(len(data))}; documents can be at most "
            f"{format_bytes(limits.max_bytes)}. Upload a smaller part of it."
        )
    kind = sniff(data, file_name)
    if kind is FileKind.PDF:
        document = read_pdf(data, file_name, max_pages=limits.max_pages)
    elif kind is FileKind.DOCX:
        document = read_docx(data, file_name)
    elif kind in (FileKind.MARKDOWN, FileKind.TEXT, FileKind.HTML):
        text = _decode(data, file_name)
        reader = {FileKind.MARKDOWN: read_markdown, FileKind.HTML: read_html}.get(kind, read_text)
        document = reader(text, file_name)
    else:
        raise UnsupportedFileError(
            f"{file_name} is {DESCRIPTIONS[kind]}, which Nexus can't read as a document. "
            f"Upload it as {SUPPORTED}."
        )
    if not any(block.text for block in document.blocks):
        raise MalformedFileError(f"{file_name} has no text in it. Check the file and try again.")
    return document


def _decode(data: bytes, file_name: str) -> str:
    encoding = detect_encoding(data)
    if encoding is None:
        raise UnsupportedFileError(
            f"{file_name} is not text in any encoding Nexus recognises. Save it as UTF-8 "
            "and upload it again."
        )
    return data.decode(encoding, errors="replace").lstrip("\ufeff")
