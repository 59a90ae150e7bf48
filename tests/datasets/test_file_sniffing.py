"""Type, encoding, delimiter and decimal detection on real and tricky inputs."""

from __future__ import annotations

import io
import random

import pandas as pd
import plotly.express as px
import pytest

from core.datasets.delimited import detect_decimal, detect_delimiter
from core.datasets.sniff import FileKind, detect_encoding, sniff


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    px.data.iris().to_excel(buffer, index=False)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    px.data.iris().to_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (px.data.iris().to_csv(index=False).encode(), "iris.csv", FileKind.CSV),
        (px.data.iris().to_csv(index=False).encode("utf-16"), "iris.csv", FileKind.CSV),
        (px.data.iris().to_json(orient="records").encode(), "iris.txt", FileKind.JSON),
        (b"BMI,weight\n22.5,70\n", "bmi.csv", FileKind.CSV),  # starts like a BMP image
        (b"PAR1,PAR2\n1,2\n", "par.csv", FileKind.CSV),  # starts like Parquet
        (b"42", "answer.json", FileKind.JSON),
        (_xlsx_bytes(), "iris.bin", FileKind.XLSX),
        (_parquet_bytes(), "iris.csv", FileKind.PARQUET),
        (b"<?xml version='1.0'?><root/>", "feed.csv", FileKind.XML),
        (b"{\\rtf1\\ansi hello}", "notes.csv", FileKind.RTF),
        (random.Random(1).randbytes(2048), "blob.csv", FileKind.BINARY),
    ],
)
def test_sniff(data: bytes, name: str, kind: FileKind) -> None:
    assert sniff(data, name) is kind


def test_detect_encoding() -> None:
    western = "name,city\nJosé,Málaga\nFrançois,Besançon\n"
    assert detect_encoding(western.encode("utf-8")) == "utf-8"
    assert detect_encoding(western.encode("cp1252")) == "cp1252"
    assert detect_encoding(western.encode("utf-16")) == "utf-16"
    assert detect_encoding(western.encode("utf-16-le")) == "utf-16-le"  # no BOM
    assert detect_encoding(b"\xef\xbb\xbf" + western.encode()) == "utf-8-sig"
    cyrillic = "Город,Население\nМосква,12000000\nСанкт-Петербург,5000000\n"
    assert detect_encoding(cyrillic.encode("cp1251")) == "cp1251"
    assert detect_encoding(random.Random(3).randbytes(4096)) is None


def test_delimiter_and_decimal_for_european_csv() -> None:
    sample = px.data.iris().to_csv(sep=";", decimal=",", index=False)

    delimiter = detect_delimiter(sample, "iris.csv")

    assert delimiter == ";"
    assert detect_decimal(sample, delimiter) == ","


def test_delimiter_ignores_quoted_separators() -> None:
    frame = pd.DataFrame({"note": ["a;b|c", "d;e", "f|g;h"], "value": [1, 2, 3]})
    sample = frame.to_csv(index=False)

    assert detect_delimiter(sample, "notes.csv") == ","
    assert detect_decimal(sample, ",") == "."


def test_single_column_text_falls_back_to_extension() -> None:
    assert detect_delimiter("name\nAnn\nBob\n", "names.csv") == ","
    assert detect_delimiter("name\nAnn\nBob\n", "names.tsv") == "\t"
