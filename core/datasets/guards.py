"""Limit checks and the user-facing messages of ingest, in one place.

Every message names the file, says what is wrong with numbers (actual and limit),
and tells the user what to do next, because adapters post it verbatim in chat.
Keeping the wording here keeps the readers short and the tone consistent.
"""

from __future__ import annotations

from core.datasets.sniff import DESCRIPTIONS, EXPECTED_BY_EXTENSION, FileKind, extension_of
from core.errors import FileTooLargeError, MalformedFileError, UnsupportedFileError
from core.settings import IngestLimits

SUPPORTED = "CSV, TSV, Excel (.xlsx), Parquet or JSON"
_ARCHIVES = frozenset(
    {FileKind.ZIP, FileKind.GZIP, FileKind.BZIP2, FileKind.XZ, FileKind.SEVEN_ZIP, FileKind.RAR}
)


def format_bytes(size: int) -> str:
    """``52428800`` → ``"50 MB"``, ``64183910`` → ``"61.2 MB"`` (binary units, short)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{int(value)} bytes"
            text = f"{value:.1f}".removesuffix(".0")
            return f"{text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def check_file_size(name: str, size: int, limits: IngestLimits) -> None:
    """Refuse a file over ``max_file_bytes`` before anything reads it."""
    if size > limits.max_file_bytes:
        raise FileTooLargeError(
            f"{name} is {format_bytes(size)}; the limit is {format_bytes(limits.max_file_bytes)}."
            " Upload a smaller extract or filter it first."
        )


def check_rows(name: str, rows: int, limits: IngestLimits, *, approximate: bool = False) -> None:
    """Refuse more than ``max_rows`` data rows; ``approximate`` when reading stopped early."""
    if rows > limits.max_rows:
        counted = f"about {rows:,}" if approximate else f"{rows:,}"
        raise FileTooLargeError(
            f"{name} has {counted} rows; the limit is {limits.max_rows:,}."
            " Upload a smaller extract (filter or sample the rows) and ask again."
        )


def check_columns(name: str, columns: int, limits: IngestLimits) -> None:
    """Refuse more than ``max_columns`` columns."""
    if columns > limits.max_columns:
        raise FileTooLargeError(
            f"{name} has {columns:,} columns; the limit is {limits.max_columns:,}."
            " Keep only the columns you need and upload it again."
        )


def empty_file(name: str) -> MalformedFileError:
    """The error for a file with no content at all."""
    return MalformedFileError(
        f"{name} is empty. Check that the export finished and upload the file again."
    )


def not_a_data_file(name: str, kind: FileKind) -> UnsupportedFileError:
    """The error for a recognised non-data file, saying what it really is."""
    what = DESCRIPTIONS[kind]
    expected = EXPECTED_BY_EXTENSION.get(extension_of(name))
    if kind in (FileKind.XLS, FileKind.XLSB):
        return UnsupportedFileError(
            f"{name} is {what}, which Nexus can't read. Open it in Excel or LibreOffice,"
            " save it as .xlsx (or export the sheet as CSV) and upload that."
        )
    if kind is FileKind.ODS:
        return UnsupportedFileError(
            f"{name} is {what}, which Nexus can't read. Save it as .xlsx or export the"
            " sheet as CSV and upload that."
        )
    if kind is FileKind.BINARY:
        todo = f"Upload the data as {SUPPORTED}."
        if expected:
            return UnsupportedFileError(
                f"{name} contains binary data, not text, so it can't be read as {expected}. {todo}"
            )
        return UnsupportedFileError(f"{name} contains binary data Nexus can't read. {todo}")
    if kind in _ARCHIVES:
        todo = "Extract the data file from it and upload that instead."
    else:
        todo = f"Upload the data itself as {SUPPORTED}."
    if expected:
        return UnsupportedFileError(f"{name} is {what}, not {expected}. {todo}")
    return UnsupportedFileError(f"{name} is {what}, not a data file Nexus can read. {todo}")
