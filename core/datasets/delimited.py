"""Read delimited text (CSV, TSV, semicolon and pipe files) in whatever encoding it came in.

Real exports vary in three ways that plain ``pd.read_csv`` gets wrong: the encoding
(Excel writes UTF-16 or cp1252, not UTF-8), the delimiter (European locales use
semicolons, with a comma as the decimal mark) and the shape (ragged rows). This
module settles the first two from the bytes before pandas parses, and turns
pandas' tokenizer errors into messages that say which line to fix.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import pandas as pd

from core.datasets.guards import check_columns, empty_file, not_a_data_file
from core.datasets.sniff import FileKind, detect_encoding, extension_of
from core.errors import MalformedFileError
from core.settings import IngestLimits

_DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_CHARS = 64 * 1024
_SAMPLE_ROWS = 200
_ENCODING_SAMPLE = 1024 * 1024
_COMMA_DECIMAL = re.compile(r"^-?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_FIELDS_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")

csv.field_size_limit(16 * 1024 * 1024)


def decode_text(data: bytes, name: str) -> str:
    """Decode ``data`` to text, or raise the "binary, not text" error naming the file.

    The encoding is judged on the first megabyte; when the rest disagrees (an ASCII
    head with cp1252 accents further down is common), cp1252 and then Latin-1 are
    tried, since every byte sequence decodes in Latin-1.
    """
    encoding = detect_encoding(data[:_ENCODING_SAMPLE])
    if encoding is None:
        raise not_a_data_file(name, FileKind.BINARY)
    for candidate in dict.fromkeys((encoding, "cp1252", "latin_1")):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            if encoding not in ("utf-8", "cp1252"):
                return data.decode(encoding, errors="replace")
    raise AssertionError("latin_1 decodes every byte sequence")


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter, quotechar='"')
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= _SAMPLE_ROWS:
                break
    except csv.Error:
        pass  # a sample cut inside a quoted field: judge on the rows read so far
    return rows


def detect_delimiter(sample: str, filename: str) -> str:
    """Pick the delimiter that gives the header and most rows the same field count.

    ``csv.Sniffer`` is easily fooled by decimal commas and free text; scoring each
    candidate by (header agrees with the common width, share of rows with that
    width, width) is steadier. Ties go to the extension's delimiter.
    """
    preferred = "\t" if extension_of(filename) in (".tsv", ".tab") else ","
    best: tuple[bool, float, int, bool] | None = None
    chosen = preferred
    for delimiter in _DELIMITERS:
        rows = _sample_rows(sample, delimiter)
        if not rows:
            continue
        widths = [len(row) for row in rows]
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        score = (widths[0] == width, count / len(widths), width, delimiter == preferred)
        if best is None or score > best:
            best, chosen = score, delimiter
    return chosen


def detect_decimal(sample: str, delimiter: str) -> str:
    """A comma decimal mark is only plausible when commas do not separate fields."""
    if delimiter != ";":
        return "."
    fields = [value.strip() for row in _sample_rows(sample, delimiter) for value in row]
    commas = sum(1 for value in fields if _COMMA_DECIMAL.match(value))
    dots = sum(1 for value in fields if _DOT_DECIMAL.match(value))
    return "," if commas > dots else "."


def _malformed(name: str, exc: Exception) -> MalformedFileError:
    message = str(exc)
    match = _FIELDS_ERROR.search(message)
    if match:
        expected, line, saw = match.groups()
        what = f"line {line} has {saw} fields but the header has {expected}"
    elif "EOF inside string" in message:
        what = 'a quoted value is never closed (a stray " character)'
    else:
        what = "its rows could not be split into columns"
    return MalformedFileError(
        f"{name} could not be read as CSV: {what}. Fix that row (or quote values that"
        " contain the delimiter), then upload it again.",
        detail=message,
    )


def read_delimited(data: bytes, name: str, limits: IngestLimits) -> tuple[pd.DataFrame, str]:
    """Parse delimited text; returns the frame and the decimal mark it used.

    At most ``max_rows + 1`` rows are read so an oversized file is refused without
    parsing all of it; the caller compares the row count with the limit.
    """
    text = decode_text(data, name)
    if not text.strip(" \t\r\n\ufeff"):
        raise empty_file(name)
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    delimiter = detect_delimiter(sample, name)
    header = _sample_rows(sample, delimiter)[:1]
    if header:
        check_columns(name, len(header[0]), limits)
    decimal = detect_decimal(sample, delimiter)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            decimal=decimal,
            quotechar='"',
            nrows=limits.max_rows + 1,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError as exc:
        raise empty_file(name) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise _malformed(name, exc) from exc
    return frame, decimal


def approximate_rows(data: bytes) -> int:
    """Data rows in a delimited file, counted by newlines (quoted newlines over-count)."""
    return max(data.count(b"\n") - 1, 0)
