"""Read Excel workbooks (.xlsx/.xlsm) sheet by sheet, after checking they are not zip bombs.

An .xlsx is a zip of XML parts; a few kilobytes can declare gigabytes of sheet XML.
The zip directory already states each part's compressed and uncompressed size, and
Python's ``zipfile`` never inflates a member past its declared size, so checking
the directory (total size and per-part ratio, the same rule as Apache POI's
``ZipSecureFile``) bounds the work before a single byte is inflated. Sheets are then
streamed with openpyxl's read-only mode, stopping as soon as a limit is crossed.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
import pandas as pd

from core.datasets.guards import check_columns, check_rows, format_bytes
from core.errors import FileTooLargeError, MalformedFileError, NexusError
from core.settings import IngestLimits

MAX_COMPRESSION_RATIO = 100
"""Uncompressed/compressed above this for a part larger than the grace size is a bomb."""
RATIO_GRACE_BYTES = 1024 * 1024


def check_workbook_archive(data: bytes, name: str, limits: IngestLimits) -> None:
    """Refuse a workbook whose declared uncompressed size or compression ratio is absurd."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _broken(name, exc) from exc
    total = sum(member.file_size for member in members)
    if total > limits.max_excel_uncompressed_bytes:
        raise FileTooLargeError(
            f"{name} expands to {format_bytes(total)} when unzipped; the limit is"
            f" {format_bytes(limits.max_excel_uncompressed_bytes)}. Save only the sheets"
            " you need in a smaller workbook, or export the sheet as CSV, and upload that."
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_GRACE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise FileTooLargeError(
                f"{name} looks like a zip bomb: its part {member.filename} expands"
                f" {ratio:,.0f}x (from {format_bytes(member.compress_size)} to"
                f" {format_bytes(member.file_size)}). Re-save the workbook in Excel or"
                " export the sheet as CSV, and upload that.",
                detail=f"compression ratio {ratio:.0f} > {MAX_COMPRESSION_RATIO}",
            )


def _broken(name: str, exc: Exception) -> MalformedFileError:
    return MalformedFileError(
        f"{name} could not be opened as an Excel workbook; it may be damaged or only"
        " partly uploaded. Open and re-save it in Excel (or export the sheet as CSV)"
        " and upload it again.",
        detail=f"{type(exc).__name__}: {exc}",
    )


def _trimmed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop trailing empty cells; formatted-but-empty columns make rows very wide."""
    end = len(row)
    while end and (row[end - 1] is None or row[end - 1] == ""):
        end -= 1
    return row[:end]


def _sheet_frame(
    rows: Iterator[tuple[Any, ...]], label: str, limits: IngestLimits, declared_rows: int | None
) -> pd.DataFrame | None:
    """Build one sheet's frame: the first non-empty row is the header; ``None`` if empty.

    ``declared_rows`` (the sheet's own dimension record) only improves the message
    when reading stops early at the row limit.
    """
    header: tuple[Any, ...] | None = None
    body: list[tuple[Any, ...]] = []
    width = 0
    for raw in rows:
        row = _trimmed(raw)
        if not row:
            continue
        if len(row) > width:
            width = len(row)
            check_columns(label, width, limits)
        if header is None:
            header = row
            continue
        body.append(row)
        if len(body) > limits.max_rows:
            check_rows(label, max(len(body), (declared_rows or 0) - 1), limits, approximate=True)
    if header is None:
        return None
    names = ["" if value is None else str(value) for value in header]
    names += [""] * (width - len(names))
    frame = pd.DataFrame.from_records(
        [row + (None,) * (width - len(row)) for row in body], columns=range(width)
    )
    return frame.set_axis(names, axis=1)


def read_workbook(data: bytes, name: str, limits: IngestLimits) -> list[tuple[str, pd.DataFrame]]:
    """Every non-empty worksheet as ``(sheet name, frame)``, in workbook order."""
    check_workbook_archive(data, name, limits)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to TypeError
        raise _broken(name, exc) from exc
    try:
        sheets = workbook.worksheets
        if len(sheets) > limits.max_excel_sheets:
            raise FileTooLargeError(
                f"{name} has {len(sheets)} sheets; the limit is {limits.max_excel_sheets}."
                " Save the sheets you need in a smaller workbook and upload that."
            )
        tables: list[tuple[str, pd.DataFrame]] = []
        for sheet in sheets:
            label = f"{name} [{sheet.title}]"
            try:
                rows = sheet.iter_rows(values_only=True)
                frame = _sheet_frame(rows, label, limits, sheet.max_row)
            except NexusError:
                raise
            except Exception as exc:
                raise _broken(name, exc) from exc
            if frame is not None:
                tables.append((sheet.title, frame))
    finally:
        workbook.close()
    if not tables:
        raise MalformedFileError(
            f"{name} has no data: every sheet is empty. Check that you saved the right"
            " workbook and upload it again."
        )
    return tables
