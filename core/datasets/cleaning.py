"""Make freshly parsed frames analysable: numbers as numbers, dates as dates, sane names.

Spreadsheets exported for humans carry formatting that parsers keep as text
("$1,234.50", "12%", "(300)", "03/04/2021"). Left as text, a question like "total
revenue by month" cannot be answered, so every reader runs :func:`clean_frame`.
Conversions are conservative: a column is converted only when (nearly) every value
fits, identifiers with leading zeros and plain integers such as years stay as they
are, and every lossy or surprising step is written down as a note for the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NA_TOKENS = frozenset({"", "-", "--", "—", "–", "?", "n/a", "na", "nan", "null", "none", "nil"})
NA_TOKENS_EXTRA = frozenset({"#n/a", "#value!", "#div/0!", "#ref!", "#num!", "#null!"})
_DATE_MIN_PARSED = 0.9
_DATE_SAMPLE = 500
_CURRENCY = r"US\$|R\$|[$€£¥₹₩₽]|USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|SEK|NOK|DKK|kr"
_NUMBER_DOT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+"
_NUMBER_COMMA = r"\d{1,3}(?:[.\u00a0\u202f ]\d{3})+(?:,\d+)?|\d+(?:,\d*)?|,\d+"
_BLANK_NAME = re.compile(r"^(?:Unnamed: \d+(?:_level_\d+)?)?$")
_LEADING_ZERO = re.compile(r"^0\d+$")
_DIGITS = re.compile(r"^\d+$")
_DATE_FORMATS_MONTH_FIRST = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
)
_DATE_FORMATS_DAY_FIRST = (
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
)
_FORMAT_CODES = {
    "%d": "DD",
    "%m": "MM",
    "%Y": "YYYY",
    "%y": "YY",
    "%b": "Mon",
    "%B": "Month",
    "%H": "hh",
    "%M": "mm",
    "%S": "ss",
}
_DATE_FORMATS_OTHER = (
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d.%m.%Y %H:%M",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %Y",
    "%B %Y",
)


@dataclass
class _NumberScan:
    """What parsing a column's distinct values as numbers found."""

    values: dict[object, float] = field(default_factory=dict)
    currencies: set[str] = field(default_factory=set)
    percent: bool = False
    fractional: bool = False
    missing_tokens: set[str] = field(default_factory=set)


def _number_pattern(decimal: str) -> re.Pattern[str]:
    number = _NUMBER_COMMA if decimal == "," else _NUMBER_DOT
    return re.compile(
        rf"^(?P<sign>[-+])?\s*(?P<cur>{_CURRENCY})?\s*(?P<sign2>[-+])?\s*(?P<num>{number})"
        rf"\s*(?P<pct>%)?\s*(?P<cur2>{_CURRENCY})?$"
    )


def _is_blank_name(raw: Hashable) -> bool:
    """Empty, missing, or pandas' placeholder for an empty header cell ("Unnamed: 3")."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return True
    return bool(_BLANK_NAME.match(" ".join(str(raw).split())))


def unique_column_names(names: Iterable[Hashable]) -> list[str]:
    """Strip names, name blank ones ``column_N`` (1-based position), suffix duplicates."""
    result: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(names, start=1):
        name = f"column_{position}" if _is_blank_name(raw) else " ".join(str(raw).split())
        candidate, suffix = name, 2
        while candidate in seen:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(candidate)
        result.append(candidate)
    return result


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def _is_missing_token(text: str) -> bool:
    lowered = text.lower()
    return lowered in NA_TOKENS or lowered in NA_TOKENS_EXTRA


def _scan_numbers(
    uniques: np.ndarray, pattern: re.Pattern[str], decimal: str
) -> _NumberScan | None:
    """Parse every distinct value as a number, or return ``None`` if any one is not."""
    scan = _NumberScan()
    thousands = "," if decimal == "." else ".\u00a0\u202f "
    for raw in uniques:
        if isinstance(raw, bool | np.bool_):
            return None
        if isinstance(raw, int | float | np.integer | np.floating):
            scan.values[raw] = float(raw)
            scan.fractional |= isinstance(raw, float | np.floating)
            continue
        if not isinstance(raw, str):
            return None
        text = raw.strip().replace("\u2212", "-")
        if _is_missing_token(text):
            scan.values[raw] = np.nan
            if text:
                scan.missing_tokens.add(text)
            continue
        negative = text.startswith("(") and text.endswith(")")
        match = pattern.match(text[1:-1].strip() if negative else text)
        if match is None or _LEADING_ZERO.match(text):
            return None  # text, or an identifier like a ZIP code whose zeros matter
        digits = match["num"].translate({ord(c): None for c in thousands})
        value = float(digits.replace(",", ".") if decimal == "," else digits)
        if negative or "-" in (match["sign"] or "", match["sign2"] or ""):
            value = -value
        scan.values[raw] = value
        currency = match["cur"] or match["cur2"]
        if currency:
            scan.currencies.add(currency)
        scan.percent |= bool(match["pct"])
        # "1,699.00" was written as a decimal amount: keep it float even when whole
        scan.fractional |= bool(match["pct"]) or decimal in digits or not value.is_integer()
    return scan if any(not np.isnan(v) for v in scan.values.values()) else None


def _coerce_numeric(
    name: str, series: pd.Series, decimal: str, notes: list[str]
) -> pd.Series | None:
    uniques = series.dropna().unique()
    if len(uniques) == 0:
        return None
    scan = _scan_numbers(np.asarray(uniques, dtype=object), _number_pattern(decimal), decimal)
    if scan is None:
        return None
    numbers: pd.Series = series.map(scan.values).astype("float64")
    if not scan.fractional and not numbers.isna().any() and numbers.abs().max() < 2**53:
        numbers = numbers.astype("int64")
    if scan.currencies:
        notes.append(
            f"{name}: currency amounts ({', '.join(sorted(scan.currencies))}) read as numbers"
        )
    if scan.percent:
        notes.append(f"{name}: percentages read as numbers (12% → 12.0)")
    if scan.missing_tokens:
        shown = ", ".join(repr(t) for t in sorted(scan.missing_tokens)[:3])
        notes.append(f"{name}: {shown} treated as missing")
    return numbers


def _human_format(fmt: str) -> str:
    """``%d/%m/%Y`` → ``DD/MM/YYYY``: what users recognise in a note."""
    for code, shown in _FORMAT_CODES.items():
        fmt = fmt.replace(code, shown)
    return fmt


def _parse_dates(values: pd.Series, fmt: str) -> pd.Series:
    try:
        return pd.to_datetime(values, format=fmt, errors="coerce")
    except ValueError:  # mixed UTC offsets: normalise to UTC rather than give up
        return pd.to_datetime(values, format=fmt, errors="coerce", utc=True)


def _coerce_dates(
    name: str, series: pd.Series, dayfirst: bool, notes: list[str]
) -> pd.Series | None:
    present = series.dropna()
    if len(present) == 0 or not all(isinstance(v, str) for v in present.iloc[:_DATE_SAMPLE]):
        return None
    text = present.astype(str).str.strip()
    text = text[~text.str.lower().isin(NA_TOKENS | NA_TOKENS_EXTRA)]
    sample = pd.Series(text.unique()[:_DATE_SAMPLE], dtype=object)
    if len(sample) == 0 or sample.str.fullmatch(_DIGITS.pattern).mean() > 0.1:
        return None  # plain integers (years, ids, yyyymmdd codes) stay numbers
    if not sample.str.contains(r"\d", regex=True).all():
        return None
    ambiguous = (
        (*_DATE_FORMATS_DAY_FIRST, *_DATE_FORMATS_MONTH_FIRST)
        if dayfirst
        else (*_DATE_FORMATS_MONTH_FIRST, *_DATE_FORMATS_DAY_FIRST)
    )
    best_fmt, best_ok = "", 0.0
    for fmt in ("ISO8601", *ambiguous, *_DATE_FORMATS_OTHER):
        ok = float(_parse_dates(sample, fmt).notna().mean())
        if ok > best_ok:
            best_fmt, best_ok = fmt, ok
        if ok == 1.0:
            break
    if best_ok < _DATE_MIN_PARSED:
        return None
    stripped = series.astype(object).where(series.isna(), series.astype(str).str.strip())
    is_value = series.notna() & ~stripped.astype(str).str.lower().isin(NA_TOKENS | NA_TOKENS_EXTRA)
    parsed = _parse_dates(stripped.where(is_value), best_fmt)
    lost = int((is_value & parsed.isna()).sum())
    if lost > (1 - _DATE_MIN_PARSED) * int(is_value.sum()):
        return None
    if best_fmt != "ISO8601":
        notes.append(f"{name}: read as dates in the format {_human_format(best_fmt)}")
    if lost > 0:
        notes.append(f"{name}: {lost} value(s) that were not dates left empty")
    return parsed


def _stringify_nested(series: pd.Series) -> pd.Series:
    """Lists and dicts in cells (nested JSON, Parquet lists) become JSON text, so they hash."""

    def dump(value: object) -> object:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, list | dict | tuple | set):
            return json.dumps(
                value if not isinstance(value, set) else sorted(value, key=str), default=str
            )
        return value

    sample = series.dropna().iloc[:200]
    if any(isinstance(v, list | dict | tuple | set | np.ndarray) for v in sample):
        return series.map(dump)
    return series


def clean_frame(
    frame: pd.DataFrame, *, decimal: str = ".", dayfirst: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    """Tidy names, drop empty rows/columns, convert number- and date-like text columns.

    ``decimal=","`` reads "1.234,5" as 1234.5 (semicolon CSVs from European locales);
    ``dayfirst`` prefers 03/04 as 3 April when both readings fit. Returns the cleaned
    frame and human-readable notes about what was converted.
    """
    notes: list[str] = []
    empty = [
        _is_blank_name(column) and frame.iloc[:, i].isna().all()
        for i, column in enumerate(frame.columns)
    ]
    if any(empty):
        frame = frame.iloc[:, [i for i, drop in enumerate(empty) if not drop]]
    frame = frame.dropna(how="all") if frame.shape[1] else frame
    frame = frame.set_axis(unique_column_names(frame.columns), axis=1).reset_index(drop=True)
    for name in frame.columns:
        series = frame[name]
        if not _is_text(series):
            continue
        series = _stringify_nested(series)
        converted = _coerce_numeric(name, series, decimal, notes)
        if converted is None:
            converted = _coerce_dates(name, series, dayfirst, notes)
        frame[name] = series if converted is None else converted
    return frame, notes
