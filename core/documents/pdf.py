"""PDF text by page with pypdf; the outline (bookmarks), when present, names sections."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from core.documents.cleaning import clean_text, paragraphs
from core.documents.models import Block, DocumentKind, ExtractedDocument
from core.errors import FileTooLargeError, MalformedFileError, UnsupportedFileError


def read_pdf(data: bytes, file_name: str, *, max_pages: int) -> ExtractedDocument:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _opens_without_password(reader):
            raise _encrypted(file_name)
        count = len(reader.pages)
    except FileNotDecryptedError as exc:
        raise _encrypted(file_name) from exc
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise MalformedFileError(
            f"{file_name} looks like a PDF but could not be read ({type(exc).__name__}). "
            "Re-export or re-save it as PDF and upload it again.",
            detail=repr(exc),
        ) from exc
    if count > max_pages:
        raise FileTooLargeError(
            f"{file_name} has {count:,} pages; Nexus reads documents of up to {max_pages:,} "
            "pages. Split it and upload the parts you need."
        )
    titles = _outline_titles(reader)
    blocks: list[Block] = []
    section: str | None = None
    for number, page in enumerate(reader.pages, 1):
        section = titles.get(number, section)
        try:
            text = page.extract_text() or ""
        except (PdfReadError, ValueError, KeyError) as exc:
            raise MalformedFileError(
                f"Page {number} of {file_name} could not be read. Re-export the PDF and "
                "upload it again.",
                detail=repr(exc),
            ) from exc
        blocks.extend(Block(part, page=number, section=section) for part in paragraphs(text))
    if not blocks:
        raise UnsupportedFileError(
            f"{file_name} has no text layer: it looks like a scanned or image-only PDF, and "
            "Nexus does not read text from images. Upload a PDF exported from the original "
            "document (or run it through OCR first)."
        )
    return ExtractedDocument(file_name, DocumentKind.PDF, blocks, pages=count)


def _opens_without_password(reader: PdfReader) -> bool:
    # Many PDFs are "encrypted" with only an owner password (no printing, no copying);
    # they open with the empty user password, and their text is readable.
    try:
        return bool(reader.decrypt(""))
    except (NotImplementedError, PdfReadError, ValueError) as exc:
        raise MalformedFileError(
            "That PDF uses an encryption Nexus cannot open. Save an unprotected copy "
            "and upload it.",
            detail=repr(exc),
        ) from exc


def _encrypted(file_name: str) -> UnsupportedFileError:
    return UnsupportedFileError(
        f"{file_name} is password-protected, so Nexus cannot read it. Save a copy without "
        "the password (in your PDF viewer: Print → Save as PDF) and upload that."
    )


def _outline_titles(reader: PdfReader) -> dict[int, str]:
    """1-based page → the top-level bookmark starting on it (empty if none)."""
    titles: dict[int, str] = {}
    try:
        outline = reader.outline
    except (PdfReadError, ValueError, KeyError):
        return titles
    for item in outline:
        if isinstance(item, list):  # nested bookmarks: the top level names sections
            continue
        try:
            page = reader.get_destination_page_number(item)
        except (PdfReadError, ValueError, KeyError, AttributeError):
            continue
        title = clean_text(str(item.title or ""))
        if page is not None and page >= 0 and title:
            titles.setdefault(page + 1, title)
    return titles
