"""What an ingested data file becomes: named tables and their profiles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field

ColumnKind = Literal["numeric", "integer", "boolean", "datetime", "categorical", "text"]


@dataclass(frozen=True)
class Table:
    """One DataFrame read from a file (an Excel workbook gives one Table per sheet)."""

    name: str
    """Human name used in answers: ``tips.csv`` or ``sales.xlsx [Q3]``."""
    frame: pd.DataFrame
    source_file: str
    sheet: str | None
    content_hash: str
    """sha256 of the source file bytes (plus sheet name), the cache key of results."""


class ColumnProfile(BaseModel):
    name: str
    kind: ColumnKind
    dtype: str
    null_rate: float
    distinct: int
    # numeric columns
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    # datetime columns (ISO strings)
    start: str | None = None
    end: str | None = None
    # low-cardinality columns: the values, most frequent first (at most 50)
    top_values: list[str] = Field(default_factory=list)


class DatasetProfile(BaseModel):
    """What planners (deterministic and LLM) see of a table; never the whole data."""

    name: str
    content_hash: str
    rows: int
    columns: list[ColumnProfile]
    sample_rows: list[dict[str, object]] = Field(default_factory=list)

    def column(self, name: str) -> ColumnProfile:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)
