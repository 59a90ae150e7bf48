"""Every limit and every wrong or broken file gets a specific, actionable refusal.

Each test checks the exception type and that ``user_message`` names the file and
tells the user what to do next, since adapters post it verbatim in the thread.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import plotly.express as px
import pytest

from core.datasets.ingest import load_tables, load_tables_from_bytes
from core.errors import (
    FileTooLargeError,
    InputError,
    MalformedFileError,
    UnsupportedFileError,
    UserFacingError,
)
from core.settings import IngestLimits

_ACTION = re.compile(r"\b(upload|save|export|extract|fix|check|keep)\b", re.IGNORECASE)


def _limits(**overrides: int) -> IngestLimits:
    values = {
        "max_file_bytes": 50 * 1024 * 1024,
        "max_rows": 2_000_000,
        "max_columns": 500,
        "max_excel_uncompressed_bytes": 500 * 1024 * 1024,
        "max_excel_sheets": 50,
    }
    values.update(overrides)
    return IngestLimits(**values)


def _refusal(error: type[UserFacingError], path: Path, limits: IngestLimits | None = None) -> str:
    """Load ``path``, expect ``error``, check the message names the file and an action."""
    with pytest.raises(error) as caught:
        load_tables(path, limits or _limits())
    message = caught.value.user_message
    assert path.name in message, message
    assert _ACTION.search(message), message
    return message


def _png() -> bytes:
    """A valid 1x1 PNG, built by hand (no imaging library needed)."""

    def chunk(tag: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(tag + payload))
        return struct.pack(">I", len(payload)) + tag + payload + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _tips_xlsx(path: Path) -> Path:
    px.data.tips().to_excel(path, index=False)
    return path


# --- size, rows, columns -------------------------------------------------------------


def test_file_over_byte_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "tips.csv"
    px.data.tips().to_csv(path, index=False)
    size = path.stat().st_size

    message = _refusal(FileTooLargeError, path, _limits(max_file_bytes=4096))

    assert f"{size / 1024:.1f} KB" in message and "the limit is 4 KB" in message
    with pytest.raises(FileTooLargeError):
        load_tables_from_bytes(path.read_bytes(), "tips.csv", _limits(max_file_bytes=4096))


Writer = Callable[[pd.DataFrame, Path], object]
_WRITERS: dict[str, Writer] = {
    "csv": lambda df, p: df.to_csv(p, index=False),
    "json": lambda df, p: df.to_json(p, orient="records"),
    "jsonl": lambda df, p: df.to_json(p, orient="records", lines=True),
    "parquet": lambda df, p: df.to_parquet(p, index=False),
    "xlsx": lambda df, p: df.to_excel(p, index=False),
}


@pytest.mark.parametrize("fmt", list(_WRITERS))
def test_too_many_rows(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"tips.{fmt}"
    _WRITERS[fmt](px.data.tips(), path)

    message = _refusal(FileTooLargeError, path, _limits(max_rows=100))

    assert "244 rows" in message and "the limit is 100" in message


@pytest.mark.parametrize("fmt", list(_WRITERS))
def test_too_many_columns(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"tips.{fmt}"
    _WRITERS[fmt](px.data.tips(), path)

    message = _refusal(FileTooLargeError, path, _limits(max_columns=5))

    assert "7 columns" in message and "the limit is 5" in message


def test_xlsx_zip_bomb_is_refused_from_the_directory(tmp_path: Path) -> None:
    real = _tips_xlsx(tmp_path / "real.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    row = b'<row><c t="n"><v>0</v></c></row>'
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    sheet += b"<sheetData>" + row * 250_000 + b"</sheetData></worksheet>"  # ~8 MB of XML
    with zipfile.ZipFile(real) as source, zipfile.ZipFile(bomb, "w") as target:
        for info in source.infolist():
            body = sheet if info.filename.startswith("xl/worksheets/") else source.read(info)
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 100_000  # small on disk, huge inflated

    message = _refusal(FileTooLargeError, bomb)

    assert "zip bomb" in message and "xl/worksheets/sheet1.xml" in message


def test_xlsx_over_uncompressed_limit(tmp_path: Path) -> None:
    path = _tips_xlsx(tmp_path / "tips.xlsx")

    message = _refusal(FileTooLargeError, path, _limits(max_excel_uncompressed_bytes=10_000))

    assert "when unzipped" in message and "the limit is 9.8 KB" in message


def test_xlsx_with_too_many_sheets(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        for name in ("a", "b", "c"):
            px.data.iris().to_excel(writer, sheet_name=name, index=False)

    message = _refusal(FileTooLargeError, path, _limits(max_excel_sheets=2))

    assert "3 sheets" in message and "the limit is 2" in message


# --- wrong kinds of file -------------------------------------------------------------


def test_png_renamed_csv(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes(_png())

    message = _refusal(UnsupportedFileError, path)

    assert "is a PNG image, not a CSV file" in message


def test_pdf_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    path.write_bytes(_pdf())

    message = _refusal(UnsupportedFileError, path)

    assert "is a PDF document, not an Excel workbook" in message


@pytest.mark.parametrize(
    ("name", "make", "said"),
    [
        ("data.csv", lambda: gzip.compress(b"a,b\n1,2\n"), "gzip-compressed"),
        ("data.csv", lambda: b"<!DOCTYPE html><html><body>login</body></html>", "HTML web page"),
        ("photo.jpg", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64), "JPEG image"),
        ("anim.gif", lambda: b"GIF89a\x01\x00\x01\x00" + bytes(16), "GIF image"),
    ],
)
def test_other_non_data_files(
    tmp_path: Path, name: str, make: Callable[[], bytes], said: str
) -> None:
    path = tmp_path / name
    path.write_bytes(make())

    assert said in _refusal(UnsupportedFileError, path)


def test_plain_zip_and_word_document(tmp_path: Path) -> None:
    archive = tmp_path / "export.xlsx"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tips.csv", "a,b\n1,2\n")
    document = tmp_path / "report.csv"
    with zipfile.ZipFile(document, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")

    assert "is a ZIP archive, not an Excel workbook" in _refusal(UnsupportedFileError, archive)
    assert "is a Word document, not a CSV file" in _refusal(UnsupportedFileError, document)


def test_legacy_xls_asks_for_xlsx(tmp_path: Path) -> None:
    # Only the OLE2 header and a "Workbook" stream name: enough for the sniffer,
    # which is all this test exercises (no .xls engine is installed).
    path = tmp_path / "old.xls"
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512) + "Workbook".encode("utf-16-le")
    )

    message = _refusal(UnsupportedFileError, path)

    assert "legacy Excel 97-2003" in message and ".xlsx" in message


def test_random_binary_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(random.Random(7).randbytes(4096))

    assert "binary data" in _refusal(UnsupportedFileError, path)


# --- broken files --------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n\r\n\t"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    assert "is empty" in _refusal(MalformedFileError, path)


def test_ragged_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")

    assert "line 3 has 3 fields" in _refusal(MalformedFileError, path)


def test_malformed_json_gives_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[{"a": 1},\n {"a": 2')

    message = _refusal(MalformedFileError, path)

    assert "is not valid JSON" in message and "line 2" in message


def test_bad_line_in_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n')

    assert "line 3 is not valid JSON" in _refusal(MalformedFileError, path)


@pytest.mark.parametrize(
    "document",
    [
        {"settings": {"theme": "dark", "volume": 3}, "version": 2},
        {"users": [{"id": 1}], "orders": [{"id": 2}]},
        42,
        [],
    ],
)
def test_json_that_is_not_a_table(tmp_path: Path, document: object) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))

    assert "not a table" in _refusal(MalformedFileError, path)


def test_deeply_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "tree.json"
    path.write_text(json.dumps([{"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}]))

    assert "levels deep" in _refusal(MalformedFileError, path)


def test_truncated_parquet(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    px.data.gapminder().to_parquet(buffer)
    path = tmp_path / "gapminder.parquet"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])

    assert "truncated" in _refusal(MalformedFileError, path)


def test_damaged_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "not xml")
        zf.writestr("xl/workbook.xml", "<<<")

    assert "could not be opened as an Excel workbook" in _refusal(MalformedFileError, path)


def test_workbook_with_only_empty_sheets(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.create_sheet("Also empty")
    path = tmp_path / "blank.xlsx"
    workbook.save(path)

    assert "every sheet is empty" in _refusal(MalformedFileError, path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_tables(tmp_path / "nope.csv", _limits())

    assert "nope.csv could not be opened" in caught.value.user_message
