"""Turn an uploaded file into named, cleaned :class:`Table` objects, or a clear refusal.

This is the one entry point from workers and the CLI into data files. The order of
work is chosen so hostile or oversized input costs little: the byte size is
checked before reading, the type is taken from the content (not the name), Excel
archives are vetted before inflating, and readers stop at ``max_rows + 1``. Every
refusal is a :class:`~core.errors.UserFacingError` whose message names the file and
says what to do. Cleaning notes are kept in ``Table.frame.attrs["notes"]``.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.datasets.cleaning import clean_frame
from core.datasets.delimited import approximate_rows, read_delimited
from core.datasets.guards import (
    check_columns,
    check_file_size,
    check_rows,
    empty_file,
    not_a_data_file,
)
from core.datasets.models import Table
from core.datasets.records import read_json
from core.datasets.sniff import FileKind, sniff
from core.datasets.workbook import read_workbook
from core.errors import InputError, MalformedFileError
from core.settings import IngestLimits

__all__ = ["load_tables", "load_tables_from_bytes"]


def load_tables(
    path: Path, limits: IngestLimits, *, display_name: str | None = None
) -> list[Table]:
    """Read the data file at ``path``; ``display_name`` replaces ``path.name`` in names/messages.

    Workers store uploads under opaque names, so the user's own file name is passed
    as ``display_name`` to keep answers and errors recognisable.
    """
    name = display_name or path.name
    try:
        size = path.stat().st_size
        check_file_size(name, size, limits)
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise InputError(
            f"{name} could not be opened ({exc.strerror or type(exc).__name__})."
            " Check the path and try again.",
            detail=str(exc),
        ) from exc
    return load_tables_from_bytes(data, name, limits)


def load_tables_from_bytes(data: bytes, filename: str, limits: IngestLimits) -> list[Table]:
    """Read a data file held in memory (an upload fetched from a chat platform)."""
    check_file_size(filename, len(data), limits)
    if not data or data.isspace():
        raise empty_file(filename)
    kind = sniff(data, filename)
    file_hash = hashlib.sha256(data)
    if kind is FileKind.XLSX:
        tables = []
        for sheet, frame in read_workbook(data, filename, limits):
            sheet_hash = file_hash.copy()
            sheet_hash.update(sheet.encode("utf-8"))
            label = f"{filename} [{sheet}]"
            cleaned = _finish(frame, label, limits)
            tables.append(_table(label, cleaned, filename, sheet, sheet_hash.hexdigest()))
        return tables
    decimal = "."
    if kind is FileKind.CSV:
        frame, decimal = read_delimited(data, filename, limits)
        if len(frame) > limits.max_rows:
            check_rows(filename, approximate_rows(data), limits, approximate=True)
    elif kind is FileKind.JSON:
        frame = read_json(data, filename, limits)
    elif kind is FileKind.PARQUET:
        frame = read_parquet(data, filename, limits)
    else:
        raise not_a_data_file(filename, kind)
    cleaned = _finish(frame, filename, limits, decimal=decimal)
    return [_table(filename, cleaned, filename, None, file_hash.hexdigest())]


def _finish(
    frame: pd.DataFrame, label: str, limits: IngestLimits, *, decimal: str = "."
) -> pd.DataFrame:
    """Apply the row and column limits, then clean; notes go to ``frame.attrs``."""
    check_rows(label, len(frame), limits)
    check_columns(label, frame.shape[1], limits)
    cleaned, notes = clean_frame(frame, decimal=decimal, dayfirst=decimal == ",")
    cleaned.attrs["notes"] = notes
    return cleaned


def _table(label: str, frame: pd.DataFrame, source: str, sheet: str | None, digest: str) -> Table:
    return Table(name=label, frame=frame, source_file=source, sheet=sheet, content_hash=digest)


def read_parquet(data: bytes, name: str, limits: IngestLimits) -> pd.DataFrame:
    """Read a Parquet file, checking rows and columns from its footer before decoding.

    Struct columns are flattened into dotted columns, like nested JSON; an index
    pandas stored in the file becomes ordinary columns again.
    """
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        metadata = parquet.metadata
        check_rows(name, metadata.num_rows, limits)
        check_columns(name, len(parquet.schema_arrow.names), limits)
        table = parquet.read()
        while any(pa.types.is_struct(field.type) for field in table.schema):
            table = table.flatten()
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise MalformedFileError(
            f"{name} could not be read as Parquet; it may be truncated or damaged."
            " Export it again and upload the new file.",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    return frame.reset_index(drop=True)
