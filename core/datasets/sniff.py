"""Find out what an uploaded file really is, from its bytes first and its name second.

Chat users rename files, export the wrong thing, or drop a screenshot where a CSV
was meant. Trusting the extension gives confusing parser errors ("Error tokenizing
data"), so every upload is identified by its magic bytes before any parser sees it.
Data kinds are accepted whatever the file is called; non-data kinds (images, PDFs,
Word documents, archives) are recognised so the user hears "this is a PNG image,
not a CSV" instead of a parse failure. The worker can also use :func:`sniff` to send
documents to retrieval instead of ingest.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from enum import StrEnum
from pathlib import PurePath

import charset_normalizer

_SAMPLE = 8192


class FileKind(StrEnum):
    """What a file is; the first five are the data kinds ingest can read."""

    CSV = "csv"  # any delimited text: comma, semicolon, tab, pipe
    JSON = "json"  # JSON document or JSON Lines
    XLSX = "xlsx"
    PARQUET = "parquet"
    XLS = "xls"  # legacy Excel 97-2003 (OLE2); recognised, not read
    XLSB = "xlsb"  # Excel binary workbook; recognised, not read
    ODS = "ods"
    PNG = "png"
    JPEG = "jpeg"
    GIF = "gif"
    WEBP = "webp"
    BMP = "bmp"
    TIFF = "tiff"
    PDF = "pdf"
    DOCX = "docx"
    PPTX = "pptx"
    DOC = "doc"
    OLE = "ole"  # another Office 97-2003 file
    RTF = "rtf"
    HTML = "html"
    MARKDOWN = "markdown"  # a .md file: a document for retrieval, not a table
    TEXT = "text"  # prose in a .txt file (a delimited .txt is CSV)
    XML = "xml"
    ZIP = "zip"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    XZ = "xz"
    SEVEN_ZIP = "7z"
    RAR = "rar"
    SQLITE = "sqlite"
    BINARY = "binary"  # binary content we cannot name


DATA_KINDS = frozenset({FileKind.CSV, FileKind.JSON, FileKind.XLSX, FileKind.PARQUET})
DOCUMENT_KINDS = frozenset(
    {FileKind.PDF, FileKind.DOCX, FileKind.MARKDOWN, FileKind.TEXT, FileKind.HTML}
)
"""Kinds the worker sends to document retrieval (core/documents) instead of ingest."""

DESCRIPTIONS: dict[FileKind, str] = {
    FileKind.CSV: "a delimited text file",
    FileKind.JSON: "a JSON file",
    FileKind.XLSX: "an Excel workbook",
    FileKind.PARQUET: "a Parquet file",
    FileKind.XLS: "a legacy Excel 97-2003 workbook (.xls)",
    FileKind.XLSB: "an Excel binary workbook (.xlsb)",
    FileKind.ODS: "an OpenDocument spreadsheet (.ods)",
    FileKind.PNG: "a PNG image",
    FileKind.JPEG: "a JPEG image",
    FileKind.GIF: "a GIF image",
    FileKind.WEBP: "a WebP image",
    FileKind.BMP: "a BMP image",
    FileKind.TIFF: "a TIFF image",
    FileKind.PDF: "a PDF document",
    FileKind.DOCX: "a Word document",
    FileKind.PPTX: "a PowerPoint presentation",
    FileKind.DOC: "a Word 97-2003 document (.doc)",
    FileKind.OLE: "a Microsoft Office 97-2003 file",
    FileKind.RTF: "a rich-text (RTF) document",
    FileKind.HTML: "an HTML web page",
    FileKind.MARKDOWN: "a Markdown document",
    FileKind.TEXT: "a plain-text document",
    FileKind.XML: "an XML file",
    FileKind.ZIP: "a ZIP archive",
    FileKind.GZIP: "a gzip-compressed file",
    FileKind.BZIP2: "a bzip2-compressed file",
    FileKind.XZ: "an xz-compressed file",
    FileKind.SEVEN_ZIP: "a 7-Zip archive",
    FileKind.RAR: "a RAR archive",
    FileKind.SQLITE: "a SQLite database",
    FileKind.BINARY: "a binary file",
}

EXPECTED_BY_EXTENSION: dict[str, str] = {
    ".csv": "a CSV file",
    ".tsv": "a TSV file",
    ".tab": "a TSV file",
    ".txt": "a text file",
    ".psv": "a delimited text file",
    ".xlsx": "an Excel workbook",
    ".xlsm": "an Excel workbook",
    ".xls": "an Excel workbook",
    ".parquet": "a Parquet file",
    ".pq": "a Parquet file",
    ".json": "a JSON file",
    ".jsonl": "a JSON Lines file",
    ".ndjson": "a JSON Lines file",
}

_MAGIC: tuple[tuple[bytes, FileKind], ...] = (
    (b"\x89PNG\r\n\x1a\n", FileKind.PNG),
    (b"\xff\xd8\xff", FileKind.JPEG),
    (b"GIF87a", FileKind.GIF),
    (b"GIF89a", FileKind.GIF),
    (b"II*\x00", FileKind.TIFF),
    (b"MM\x00*", FileKind.TIFF),
    (b"%PDF-", FileKind.PDF),
    (b"\x1f\x8b", FileKind.GZIP),
    (b"\xfd7zXZ\x00", FileKind.XZ),
    (b"7z\xbc\xaf\x27\x1c", FileKind.SEVEN_ZIP),
    (b"Rar!\x1a\x07", FileKind.RAR),
    (b"SQLite format 3\x00", FileKind.SQLITE),
    (b"{\\rtf", FileKind.RTF),
)
_JSON_EXTENSIONS = frozenset({".json", ".jsonl", ".ndjson"})
_MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown"})
_DELIMITERS = (",", "\t", ";", "|")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_PREFIXES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Single-byte code pages charset-normalizer cannot tell apart from cp1252 on short
# Western text; cp1252 is what Excel writes in Western locales, so it wins ties.
_CP1252_LOOKALIKES = frozenset(
    {"cp1250", "cp1252", "cp1257", "cp775", "cp850", "cp852", "iso8859_10", "iso8859_13"}
    | {"iso8859_15", "iso8859_2", "latin_1", "mac_latin2", "mac_roman", "ascii"}
)


def extension_of(filename: str) -> str:
    """The lower-cased last suffix of ``filename`` (``""`` when there is none)."""
    return PurePath(filename).suffix.lower()


def sniff(data: bytes, filename: str) -> FileKind:
    """Identify ``data`` by content; ``filename`` only settles genuinely ambiguous cases."""
    head = data[:_SAMPLE]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"PAR1") and (data.endswith(b"PAR1") or not looks_like_text(head)):
        return FileKind.PARQUET  # a truncated Parquet file still starts with PAR1
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FileKind.WEBP
    # Two-letter magics also start ordinary CSV headers ("BMI,..."): check a second field.
    if head.startswith(b"BM") and int.from_bytes(head[2:6], "little") == len(data):
        return FileKind.BMP
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":
        return FileKind.BZIP2
    if head.startswith(_ZIP_PREFIXES):
        return _sniff_zip(data, filename)
    if head.startswith(_OLE2):
        return _sniff_ole(data)
    return _sniff_text(head, filename)


def _sniff_zip(data: bytes, filename: str) -> FileKind:
    """Tell OOXML and OpenDocument containers from plain archives by their member names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        # A broken zip named .xlsx is a broken workbook: let the Excel reader say so.
        return FileKind.XLSX if extension_of(filename) in {".xlsx", ".xlsm"} else FileKind.ZIP
    if "xl/workbook.xml" in names:
        return FileKind.XLSX
    if "xl/workbook.bin" in names:
        return FileKind.XLSB
    if "word/document.xml" in names:
        return FileKind.DOCX
    if "ppt/presentation.xml" in names:
        return FileKind.PPTX
    if b"opendocument.spreadsheet" in mimetype:
        return FileKind.ODS
    return FileKind.ZIP


def _sniff_ole(data: bytes) -> FileKind:
    """Office 97-2003 files share one container; the stream names say which app wrote it."""
    if "Workbook".encode("utf-16-le") in data:
        return FileKind.XLS
    if "WordDocument".encode("utf-16-le") in data:
        return FileKind.DOC
    if "Book".encode("utf-16-le") in data:  # Excel 5/95; checked last, it is a short word
        return FileKind.XLS
    return FileKind.OLE


def _sniff_text(head: bytes, filename: str) -> FileKind:
    """Text is JSON, HTML/XML or delimited; anything with binary bytes is binary.

    Content decides, except that a ``.json`` name settles text that could be either
    (a bare ``42``), so the user hears a JSON error rather than a one-cell table.
    """
    if not looks_like_text(head):
        return FileKind.BINARY
    encoding = detect_encoding(head) or "utf-8"
    text = head.decode(encoding, errors="replace").lstrip("\ufeff \t\r\n")
    lowered = text[:200].lower()
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body")):
        return FileKind.HTML
    if lowered.startswith("<?xml") or lowered.startswith("<"):
        return FileKind.HTML if "<html" in lowered else FileKind.XML
    if text.startswith(("{", "[")) or extension_of(filename) in _JSON_EXTENSIONS:
        return FileKind.JSON
    if extension_of(filename) in _MARKDOWN_EXTENSIONS:
        return FileKind.MARKDOWN
    if extension_of(filename) == ".txt" and _looks_like_prose(text):
        return FileKind.TEXT
    return FileKind.CSV


def _looks_like_prose(text: str) -> bool:
    """Sentences rather than a table: no consistent delimiter, several words a line
    (a one-column list of values in a .txt stays a table)."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    words = sum(len(line.split()) for line in lines) / max(len(lines), 1)
    return words > 2.5 and not _looks_delimited(text)


def _looks_delimited(text: str) -> bool:
    """Every one of the first lines has the same number (≥ 1) of one delimiter."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the sample may cut the last line short
    for delimiter in _DELIMITERS:
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM has a NUL in every other byte for ASCII characters."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def looks_like_text(head: bytes) -> bool:
    """True when ``head`` is text in some encoding rather than binary data."""
    if not head:
        return True
    if any(head.startswith(bom) for bom, _ in _BOMS) or _utf16_without_bom(head):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return controls <= 0.01 * len(head)


def detect_encoding(data: bytes) -> str | None:
    """The encoding to decode ``data`` with, or ``None`` when it is not text.

    Order matters: a BOM is authoritative, strict UTF-8 is by far the most common
    case and cannot be mistaken for anything else, and only then is
    charset-normalizer asked, with cp1252 preferred among look-alike code pages.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    utf16 = _utf16_without_bom(data[:_SAMPLE])
    if utf16:
        return utf16
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off by the end of a sample is still UTF-8.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    else:
        return "utf-8"
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    tied = {m.encoding for m in matches if m.chaos <= best.chaos + 0.01}
    if "cp1252" in tied or best.encoding in _CP1252_LOOKALIKES:
        for candidate in ("cp1252", "latin_1"):
            try:
                data.decode(candidate)
            except UnicodeDecodeError:
                continue
            return candidate
    return best.encoding
