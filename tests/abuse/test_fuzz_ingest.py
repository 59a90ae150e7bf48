"""Fuzzing every ingest format: whatever bytes arrive, ingest either returns tables
within the limits or refuses with a message the user can act on — never another
exception (which would reach the user as "something went wrong").

Inputs start from real files (plotly's tips in CSV, TSV, JSON records, Parquet,
XLSX) and are mutated: bytes flipped, cut short, spliced with random bytes; plus
arbitrary JSON documents and arbitrary bytes under every supported extension.
Derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd
import plotly.express as px
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payload_mutation import JSON_VALUES

from core.datasets.ingest import load_tables_from_bytes
from core.errors import UserFacingError
from core.settings import IngestLimits

LIMITS = IngestLimits(
    max_file_bytes=2 * 1024 * 1024,
    max_rows=5_000,
    max_columns=50,
    max_excel_uncompressed_bytes=8 * 1024 * 1024,
    max_excel_sheets=5,
)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _samples() -> dict[str, bytes]:
    tips = px.data.tips().head(60)
    parquet, xlsx = io.BytesIO(), io.BytesIO()
    tips.to_parquet(parquet, index=False)
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        tips.to_excel(writer, index=False)
    return {
        "tips.csv": tips.to_csv(index=False).encode(),
        "tips.tsv": tips.to_csv(index=False, sep="\t").encode(),
        "tips.json": tips.to_json(orient="records").encode(),
        "tips.parquet": parquet.getvalue(),
        "tips.xlsx": xlsx.getvalue(),
    }


SAMPLES = _samples()


def check_ingest(data: bytes, filename: str) -> None:
    """The property: tables within the limits, or a refusal with a user message."""
    try:
        tables = load_tables_from_bytes(data, filename, LIMITS)
    except UserFacingError as refusal:
        assert refusal.user_message.strip(), "a refusal must tell the user something"
        return
    assert tables, "no tables and no refusal"
    for table in tables:
        assert len(table.frame) <= LIMITS.max_rows
        assert len(table.frame.columns) <= LIMITS.max_columns


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    filename = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(SAMPLES[filename])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "splice", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "splice":
            data[at : at + draw(st.integers(0, 64))] = draw(st.binary(max_size=64))
        else:
            data[at:at] = draw(st.sampled_from([b'"', b"\x00", b"\n", b",,,", b"\xff\xfe", b"\t"]))
    return bytes(data), filename


@FUZZ
@given(mutated())
def test_mutated_real_files(sample: tuple[bytes, str]) -> None:
    check_ingest(*sample)


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from(sorted(SAMPLES)))
def test_arbitrary_bytes_under_every_extension(data: bytes, filename: str) -> None:
    check_ingest(data, filename)


@FUZZ
@given(JSON_VALUES)
def test_arbitrary_json_documents(value: Any) -> None:
    check_ingest(json.dumps(value).encode(), "data.json")


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    check_ingest(b"[" * 100_000 + b"]" * 100_000, "deep.json")
    check_ingest(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "deep.json")
