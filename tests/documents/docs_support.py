"""Real documents built in the test: PDFs (fpdf2, pypdf), Word files (python-docx)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

import docx
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter


def pdf_bytes(pages: Sequence[str], *, bookmarks: Sequence[tuple[str, int]] = ()) -> bytes:
    """One page per text; ``bookmarks``: (title, 1-based page) top-level outline entries."""
    pdf = FPDF()
    # A fixed creation date: the same pages make the same bytes (re-upload tests).
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.set_font("Helvetica", size=11)
    for number, text in enumerate(pages, 1):
        pdf.add_page()
        for title, page in bookmarks:
            if page == number:
                pdf.start_section(title)
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def encrypted(data: bytes, *, user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only_pdf() -> bytes:
    """A "scanned" page: an image and no text layer."""
    picture = io.BytesIO()
    Image.new("RGB", (400, 200), "white").save(picture, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(picture.getvalue()), x=10, y=10, w=150)
    return bytes(pdf.output())


def docx_bytes(items: Sequence[tuple[str, str]], *, table: Sequence[Sequence[str]] = ()) -> bytes:
    """``items``: ("h1"/"h2"/"p", text) in order; ``table`` rows appended at the end."""
    document = docx.Document()
    for kind, text in items:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1]))
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
