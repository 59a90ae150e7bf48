"""Real plotly datasets written in every supported format must load back unchanged.

Each test writes the data with pandas (or the stdlib), loads it through
``load_tables`` and compares with the original frame computed independently.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import plotly.express as px
import pytest
from pandas.testing import assert_frame_equal

from core.datasets.ingest import load_tables, load_tables_from_bytes
from core.datasets.models import Table
from core.datasets.profile import profile_table
from core.settings import IngestLimits


@pytest.fixture
def limits() -> IngestLimits:
    return IngestLimits(
        max_file_bytes=50 * 1024 * 1024,
        max_rows=2_000_000,
        max_columns=500,
        max_excel_uncompressed_bytes=500 * 1024 * 1024,
        max_excel_sheets=50,
    )


@pytest.fixture
def tips() -> pd.DataFrame:
    return px.data.tips()


def _only(tables: list[Table]) -> Table:
    assert len(tables) == 1
    return tables[0]


def test_csv_round_trips_tips_with_metadata(
    tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame
) -> None:
    path = tmp_path / "tips.csv"
    tips.to_csv(path, index=False)

    table = _only(load_tables(path, limits))

    assert_frame_equal(table.frame, tips)
    assert table.frame.total_bill.sum() == pytest.approx(tips.total_bill.sum())
    assert table.name == "tips.csv"
    assert table.source_file == "tips.csv"
    assert table.sheet is None
    assert table.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert table.frame.attrs["notes"] == []


def test_display_name_and_bytes_entry_point_agree(
    tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame
) -> None:
    path = tmp_path / "upload-7f3a"
    tips.to_csv(path, index=False)

    from_path = _only(load_tables(path, limits, display_name="tips.csv"))
    from_bytes = _only(load_tables_from_bytes(path.read_bytes(), "tips.csv", limits))

    assert from_path.name == from_bytes.name == "tips.csv"
    assert from_path.content_hash == from_bytes.content_hash
    assert_frame_equal(from_path.frame, from_bytes.frame)


def test_tsv_gapminder_keeps_year_integer(tmp_path: Path, limits: IngestLimits) -> None:
    gapminder = px.data.gapminder()
    path = tmp_path / "gapminder.tsv"
    gapminder.to_csv(path, sep="\t", index=False)

    table = _only(load_tables(path, limits))

    assert_frame_equal(table.frame, gapminder)
    assert table.frame.year.dtype == "int64"
    assert table.frame["pop"].sum() == gapminder["pop"].sum()


def test_pipe_delimited_file(tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame) -> None:
    path = tmp_path / "tips.txt"
    tips.to_csv(path, sep="|", index=False)

    assert_frame_equal(_only(load_tables(path, limits)).frame, tips)


def test_semicolon_csv_with_decimal_comma(tmp_path: Path, limits: IngestLimits) -> None:
    iris = px.data.iris()
    path = tmp_path / "iris.csv"
    iris.to_csv(path, sep=";", decimal=",", index=False)
    assert "5,1;3,5" in path.read_text()  # really written with decimal commas

    table = _only(load_tables(path, limits))

    assert_frame_equal(table.frame, iris)
    assert table.frame.sepal_length.mean() == pytest.approx(iris.sepal_length.mean())


def test_utf16_csv_as_excel_writes_it(
    tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame
) -> None:
    path = tmp_path / "tips.csv"
    tips.to_csv(path, index=False, encoding="utf-16")

    assert_frame_equal(_only(load_tables(path, limits)).frame, tips)


def test_utf8_bom_csv(tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame) -> None:
    path = tmp_path / "tips.csv"
    tips.to_csv(path, index=False, encoding="utf-8-sig")

    table = _only(load_tables(path, limits))

    assert list(table.frame.columns) == list(tips.columns)  # no "\ufefftotal_bill"
    assert_frame_equal(table.frame, tips)


def test_cp1252_csv_keeps_accented_names(tmp_path: Path, limits: IngestLimits) -> None:
    election = px.data.election()
    path = tmp_path / "election.csv"
    election.to_csv(path, index=False, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    table = _only(load_tables(path, limits))

    assert_frame_equal(table.frame, election)
    assert "132-Étienne-Desmarteau" in set(table.frame.district)


def test_xlsx_with_two_sheets(tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame) -> None:
    stocks = px.data.stocks()
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        tips.to_excel(writer, sheet_name="Tips", index=False)
        stocks.to_excel(writer, sheet_name="Stock prices", index=False)
    data = path.read_bytes()

    tables = load_tables(path, limits)

    assert [t.name for t in tables] == ["book.xlsx [Tips]", "book.xlsx [Stock prices]"]
    assert [t.sheet for t in tables] == ["Tips", "Stock prices"]
    assert {t.source_file for t in tables} == {"book.xlsx"}
    assert [t.content_hash for t in tables] == [
        hashlib.sha256(data + b"Tips").hexdigest(),
        hashlib.sha256(data + b"Stock prices").hexdigest(),
    ]
    assert_frame_equal(tables[0].frame, tips)
    expected = stocks.assign(date=pd.to_datetime(stocks.date))  # text dates become dates
    assert_frame_equal(tables[1].frame, expected, check_dtype=False)
    assert tables[1].frame.date.dtype.kind == "M"


def test_xlsx_skips_empty_sheets_and_fixes_headers(tmp_path: Path, limits: IngestLimits) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Empty"
    sheet = workbook.create_sheet("Data")
    sheet.append([])  # a blank first row above the header
    sheet.append([" Name ", None, "Name"])
    sheet.append(["a", 1, "x"])
    sheet.append(["b", 2, "y"])
    path = tmp_path / "messy.xlsx"
    workbook.save(path)

    table = _only(load_tables(path, limits))

    assert table.name == "messy.xlsx [Data]"
    assert list(table.frame.columns) == ["Name", "column_2", "Name_2"]
    assert table.frame["column_2"].tolist() == [1, 2]


def test_json_records(tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame) -> None:
    path = tmp_path / "tips.json"
    tips.to_json(path, orient="records")

    assert_frame_equal(_only(load_tables(path, limits)).frame, tips)


def test_json_lines(tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame) -> None:
    path = tmp_path / "tips.jsonl"
    tips.to_json(path, orient="records", lines=True)

    assert_frame_equal(_only(load_tables(path, limits)).frame, tips)


def test_json_wrapped_in_a_data_key(
    tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame
) -> None:
    path = tmp_path / "tips.json"
    records = json.loads(tips.to_json(orient="records"))
    path.write_text(json.dumps({"count": len(records), "data": records}))

    assert_frame_equal(_only(load_tables(path, limits)).frame, tips)


def test_nested_json_is_flattened(tmp_path: Path, limits: IngestLimits) -> None:
    gapminder = px.data.gapminder()
    rows = [
        {
            "country": r.country,
            "stats": {"year": r.year, "lifeExp": r.lifeExp, "pop": r.pop},
            "codes": {"iso": {"alpha": r.iso_alpha, "num": r.iso_num}},
        }
        for r in gapminder.itertuples()
    ]
    path = tmp_path / "gapminder.json"
    path.write_text(json.dumps(rows))

    frame = _only(load_tables(path, limits)).frame

    assert list(frame.columns) == [
        "country",
        "stats.year",
        "stats.lifeExp",
        "stats.pop",
        "codes.iso.alpha",
        "codes.iso.num",
    ]
    expected = gapminder[["country", "year", "lifeExp", "pop", "iso_alpha", "iso_num"]]
    assert_frame_equal(frame.set_axis(expected.columns, axis=1), expected)


def test_json_list_cells_become_text(tmp_path: Path, limits: IngestLimits) -> None:
    path = tmp_path / "tags.json"
    path.write_text(json.dumps([{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": []}]))

    frame = _only(load_tables(path, limits)).frame

    assert frame.tags.tolist() == ['["a", "b"]', "[]"]
    profile = profile_table(_only(load_tables(path, limits)))  # needs hashable cells
    assert profile.column("tags").distinct == 2


def test_parquet_round_trips_types(tmp_path: Path, limits: IngestLimits) -> None:
    stocks = px.data.stocks()
    stocks["date"] = pd.to_datetime(stocks["date"])
    path = tmp_path / "stocks.parquet"
    stocks.to_parquet(path, index=False)

    assert_frame_equal(_only(load_tables(path, limits)).frame, stocks)


def test_parquet_named_index_becomes_a_column(tmp_path: Path, limits: IngestLimits) -> None:
    gapminder = px.data.gapminder()
    path = tmp_path / "gapminder.parquet"
    gapminder.set_index("country").to_parquet(path)

    assert_frame_equal(_only(load_tables(path, limits)).frame, gapminder)


def test_header_only_csv_is_an_empty_table(tmp_path: Path, limits: IngestLimits) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("a,b,c\n")

    frame = _only(load_tables(path, limits)).frame

    assert list(frame.columns) == ["a", "b", "c"]
    assert len(frame) == 0


def test_type_comes_from_content_not_name(
    tmp_path: Path, limits: IngestLimits, tips: pd.DataFrame
) -> None:
    unknown = tmp_path / "tips.dat"
    tips.to_csv(unknown, index=False)
    misnamed = tmp_path / "really-parquet.csv"
    tips.to_parquet(misnamed, index=False)

    assert_frame_equal(_only(load_tables(unknown, limits)).frame, tips)
    assert_frame_equal(_only(load_tables(misnamed, limits)).frame, tips)


def test_formatted_money_csv_is_numeric(limits: IngestLimits, tips: pd.DataFrame) -> None:
    shown = tips.assign(total_bill=(tips.total_bill * 100).map(lambda v: f"${v:,.2f}"))
    data = shown.to_csv(index=False).encode()
    assert b'"$1,' in data  # thousands separators really are in the file

    table = _only(load_tables_from_bytes(data, "tips.csv", limits))

    assert table.frame.total_bill.dtype == "float64"
    assert table.frame.total_bill.sum() == pytest.approx(tips.total_bill.sum() * 100)
    assert any("currency" in note for note in table.frame.attrs["notes"])


def test_csv_in_memory_from_stringio_matches(limits: IngestLimits) -> None:
    medals = px.data.medals_long()
    buffer = io.StringIO()
    medals.to_csv(buffer, index=False)

    table = _only(load_tables_from_bytes(buffer.getvalue().encode(), "medals.csv", limits))

    assert table.frame.groupby("nation")["count"].sum().to_dict() == (
        medals.groupby("nation")["count"].sum().to_dict()
    )


def test_excel_exported_csv_with_trailing_commas_and_blank_rows(limits: IngestLimits) -> None:
    data = b'city ,sales,,\r\nOslo,"1,200",,\r\n,,,\r\nBergen,950,,\r\n'

    frame = _only(load_tables_from_bytes(data, "sales.csv", limits)).frame

    assert list(frame.columns) == ["city", "sales"]
    assert frame.city.tolist() == ["Oslo", "Bergen"]
    assert frame.sales.tolist() == [1200, 950]
    assert frame.sales.dtype == "int64"
