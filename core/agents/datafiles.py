"""The dataset files a generated program reads: the ingested tables, written out.

The program gets the tables exactly as Nexus parsed and cleaned them (the same data
the profile describes), not the raw uploads: a workbook sheet, a JSON file or a
semicolon CSV all become one file the prompt can name with its reader. Parquet keeps
dtypes (dates stay dates); a table Parquet cannot hold falls back to CSV.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.datasets.models import Table
from core.logging import get_logger

log = get_logger("agents.datafiles")

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class DataFile:
    path: Path
    """Host path handed to the sandbox (copied into its work dir under ``path.name``)."""
    reader: str
    """The call that loads it inside the sandbox, e.g. ``pd.read_parquet('tips.parquet')``."""

    @property
    def name(self) -> str:
        return self.path.name


def _stem(table: Table, taken: set[str]) -> str:
    base = Path(table.name.split(" [")[0]).stem
    if table.sheet:
        base = f"{base}_{table.sheet}"
    stem = _SLUG.sub("_", base.lower()).strip("_")[:40] or "data"
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}"
    taken.add(name)
    return name


def write_tables(tables: Sequence[Table], directory: Path) -> list[DataFile]:
    """Write each table into ``directory``; file names are unique, lowercase slugs."""
    files: list[DataFile] = []
    taken: set[str] = set()
    for table in tables:
        stem = _stem(table, taken)
        frame = table.frame
        parquet = directory / f"{stem}.parquet"
        try:
            shallow = frame.copy(deep=False)
            shallow.attrs = {}  # ingest notes are for our receipts, not the program
            shallow.to_parquet(parquet, index=False)
            files.append(DataFile(parquet, f"pd.read_parquet({parquet.name!r})"))
            continue
        except Exception as exc:  # mixed-type or non-string columns; pyarrow's own errors
            parquet.unlink(missing_ok=True)
            log.info("agents.parquet_fallback", error=type(exc).__name__)
        csv = directory / f"{stem}.csv"
        frame.to_csv(csv, index=False)
        files.append(DataFile(csv, f"pd.read_csv({csv.name!r})"))
    return files
