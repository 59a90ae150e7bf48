"""clean_frame: number- and date-like text becomes typed, everything else is left alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pytest
from pandas.testing import assert_series_equal

from core.datasets.cleaning import clean_frame, unique_column_names


def test_currency_with_thousands_separators_becomes_float() -> None:
    frame = pd.DataFrame({"revenue": ["$1,234.50", "$3", "$12,000.25", "$0.99"]})

    cleaned, notes = clean_frame(frame)

    assert cleaned.revenue.dtype == "float64"
    assert cleaned.revenue.tolist() == [1234.5, 3.0, 12000.25, 0.99]
    assert notes == ["revenue: currency amounts ($) read as numbers"]


def test_currency_codes_symbols_after_and_parentheses_negatives() -> None:
    frame = pd.DataFrame({"amount": ["€ 12", "(1,000)", "-5 €", "USD 7.5", "£3"]})

    cleaned, _ = clean_frame(frame)

    assert cleaned.amount.tolist() == [12.0, -1000.0, -5.0, 7.5, 3.0]


def test_percentages_become_numbers_and_are_noted() -> None:
    frame = pd.DataFrame({"growth": ["12%", "3.5%", "-1%", "0%"]})

    cleaned, notes = clean_frame(frame)

    assert cleaned.growth.tolist() == [12.0, 3.5, -1.0, 0.0]
    assert cleaned.growth.dtype == "float64"
    assert any("percentages" in note and "growth" in note for note in notes)


def test_thousands_without_decimals_stay_integer_and_missing_tokens_are_noted() -> None:
    frame = pd.DataFrame({"units": ["1,200", "35", "2,000,000"], "score": ["10", "n/a", "7"]})

    cleaned, notes = clean_frame(frame)

    assert cleaned.units.dtype == "int64"
    assert cleaned.units.tolist() == [1200, 35, 2_000_000]
    assert cleaned.score.dtype == "float64"
    assert cleaned.score.isna().tolist() == [False, True, False]
    assert "score: 'n/a' treated as missing" in notes


def test_decimal_comma_numbers() -> None:
    frame = pd.DataFrame({"price": ["1.234,5", "3,25", "-7", "1.000.000"]})

    cleaned, _ = clean_frame(frame, decimal=",")

    assert cleaned.price.tolist() == [1234.5, 3.25, -7.0, 1_000_000.0]


def test_text_and_identifiers_are_left_alone() -> None:
    frame = pd.DataFrame(
        {
            "zip": ["02134", "10001", "90210", "00501"],
            "name": ["Ann", "Bob", "Cy", "Di"],
            "version": ["1.2.3", "1.2.4", "2.0.0", "2.0.1"],
            "mixed": ["12", "twelve", "13", "14"],
        }
    )

    cleaned, notes = clean_frame(frame)

    for column in frame.columns:
        assert cleaned[column].tolist() == frame[column].tolist()
        assert cleaned[column].dtype.kind not in "ifM"
    assert notes == []


def test_iso_dates_parse() -> None:
    stocks = px.data.stocks()

    cleaned, notes = clean_frame(stocks.copy())

    assert_series_equal(cleaned.date, pd.to_datetime(stocks.date), check_dtype=False)
    assert cleaned.date.dtype.kind == "M"
    assert notes == []  # ISO dates are unremarkable


def test_day_first_dates_and_note() -> None:
    frame = pd.DataFrame(
        {"when": ["31/01/2024", "15/02/2024", "01/03/2024", None], "n": [1, 2, 3, 4]}
    )

    cleaned, notes = clean_frame(frame)

    assert cleaned.when.tolist()[:3] == [
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-02-15"),
        pd.Timestamp("2024-03-01"),
    ]
    assert pd.isna(cleaned.when.iloc[3])
    assert notes == ["when: read as dates in the format DD/MM/YYYY"]


def test_month_name_dates() -> None:
    frame = pd.DataFrame({"month": ["Jan 5, 2024", "Feb 10, 2024", "Mar 15, 2024"]})

    cleaned, _ = clean_frame(frame)

    assert cleaned.month.dt.month.tolist() == [1, 2, 3]


def test_years_stay_integers_as_text_or_numbers() -> None:
    gapminder = px.data.gapminder()
    frame = pd.DataFrame({"year": gapminder.year, "year_text": gapminder.year.astype(str)})

    cleaned, _ = clean_frame(frame)

    assert cleaned.year.dtype == "int64"
    assert cleaned.year_text.dtype == "int64"
    assert (cleaned.year_text == gapminder.year).all()


def test_mostly_non_dates_stay_text() -> None:
    frame = pd.DataFrame({"note": ["2024-01-01", "soon", "later", "never", "2024-02-01"]})

    cleaned, _ = clean_frame(frame)

    assert cleaned.note.tolist() == frame.note.tolist()


def test_column_names_are_stripped_blank_and_duplicates_made_unique() -> None:
    assert unique_column_names([" a ", "", None, "a", "Unnamed: 4", "a", np.nan]) == [
        "a",
        "column_2",
        "column_3",
        "a_2",
        "column_5",
        "a_3",
        "column_7",
    ]


def test_empty_unnamed_columns_and_rows_are_dropped() -> None:
    frame = pd.DataFrame(
        {"a": [1.0, np.nan, 2.0], "Unnamed: 1": [np.nan, np.nan, np.nan], "b": ["x", None, "y"]}
    )

    cleaned, _ = clean_frame(frame)

    assert list(cleaned.columns) == ["a", "b"]
    assert cleaned.a.tolist() == [1.0, 2.0]
    assert cleaned.index.tolist() == [0, 1]


@pytest.mark.parametrize("column", ["total_bill", "tip", "size"])
def test_already_numeric_columns_untouched(column: str) -> None:
    tips = px.data.tips()

    cleaned, _ = clean_frame(tips.copy())

    assert_series_equal(cleaned[column], tips[column])


def test_mixed_utc_offsets_are_normalised_to_utc() -> None:
    frame = pd.DataFrame({"at": ["2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00+02:00"]})

    cleaned, _ = clean_frame(frame)

    assert cleaned["at"].tolist() == [
        pd.Timestamp("2024-01-01T09:00:00Z"),
        pd.Timestamp("2024-01-01T08:00:00Z"),
    ]


def test_excel_style_object_column_of_numbers_and_text_numbers() -> None:
    frame = pd.DataFrame({"qty": [3, "1,200", None, 7.5, "N/A"], "k": [1, 2, 3, 4, 5]})

    cleaned, _ = clean_frame(frame)

    assert cleaned.qty.tolist()[:2] == [3.0, 1200.0]
    assert cleaned.qty.iloc[3] == 7.5
    assert cleaned.qty.isna().tolist() == [False, False, True, False, True]
