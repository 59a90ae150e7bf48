"""Thread context: the files uploaded in a thread are the datasets of its questions.

A file is stored in the scope (workspace, channel, thread) it was uploaded in and is
seen only there. A question may point at one of them — "the Q3 sheet", "the second
file", "tips.csv" — and then only that one is used; otherwise every table of the
thread is offered to the planner, the one the previous answer used first (so a
follow-up stays on the same data) and ties go to the earliest.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from core.blobs import BlobStore
from core.datasets.ingest import load_tables_from_bytes
from core.datasets.models import DatasetProfile, Table
from core.datasets.profile import profile_table
from core.settings import IngestLimits
from core.storage.models import Dataset

_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2,
    "fourth": 3, "4th": 3, "fifth": 4, "5th": 4,
    "last": -1, "latest": -1, "newest": -1, "previous": -1,
}  # fmt: skip
_NOUNS = r"file|sheet|tab|dataset|upload|spreadsheet|workbook|csv|table|one"
_ORDINAL = re.compile(
    rf"\b({'|'.join(_ORDINALS)})\s+(?:(?:uploaded|data|csv|excel)\s+)?({_NOUNS})s?\b"
)
_KIND_WORDS = r"sheet|tab|file|dataset|table|spreadsheet|workbook|csv|data"


@dataclass(frozen=True)
class ThreadFile:
    """One dataset of the thread with its tables (an Excel file has one per sheet)."""

    file_name: str
    tables: list[Table]


_LEAD_IN = r"(?:\b(?:in|of|from|on|for|using|with)\s+)?(?:\bthe\s+)?"


@dataclass(frozen=True)
class Selection:
    """The tables a question is about, and the question without the reference to them."""

    tables: list[Table]
    question: str


def _mention(question: str, name: str, *, bare: bool) -> re.Match[str] | None:
    """Where ``name`` is referred to: as itself if ``bare`` (a full file name),
    otherwise next to a word like "sheet" or "file" ("the Q3 sheet", "file tips")."""
    word = re.escape(name)
    patterns = [
        rf"{_LEAD_IN}(?<!\w){word}\s+(?:{_KIND_WORDS})\b",
        rf"{_LEAD_IN}\b(?:{_KIND_WORDS})\s+(?:named\s+|called\s+)?{word}(?!\w)",
    ]
    if bare:
        patterns.append(rf"{_LEAD_IN}(?<!\w){word}(?!\w)")
    for pattern in patterns:
        match = re.search(pattern, question, re.IGNORECASE)
        if match:
            return match
    return None


def _without(question: str, match: re.Match[str]) -> str:
    rest = question[: match.start()] + " " + question[match.end() :]
    return re.sub(r"\s+", " ", rest).strip(" ,:;")


def _by_ordinal(question: str, files: Sequence[ThreadFile]) -> Selection | None:
    match = re.search(_LEAD_IN + _ORDINAL.pattern, question, re.IGNORECASE)
    if match is None:
        return None
    index, noun = _ORDINALS[match.group(1).lower()], match.group(2).lower()
    if noun in ("sheet", "tab"):
        sheets = [t for f in files for t in f.tables]
        chosen = [sheets[index]] if -len(sheets) <= index < len(sheets) else None
    else:
        chosen = list(files[index].tables) if -len(files) <= index < len(files) else None
    return None if chosen is None else Selection(chosen, _without(question, match))


def _by_name(question: str, files: Sequence[ThreadFile]) -> Selection | None:
    named: list[Table] = []
    for file in files:
        sheets = []
        for table in file.tables:
            if table.sheet and (match := _mention(question, table.sheet, bare=False)):
                sheets.append(table)
                question = _without(question, match)
        if sheets:  # "the Q3 sheet" beats the whole workbook
            named.extend(sheets)
            continue
        stem = PurePath(file.file_name).stem
        match = _mention(question, file.file_name, bare=True)
        if match is None and len(stem) > 1:
            match = _mention(question, stem, bare=False)
        if match is not None:
            named.extend(file.tables)
            question = _without(question, match)
    return Selection(named, question) if named else None


def pick_tables(
    question: str, files: Sequence[ThreadFile], *, prefer: Sequence[str] = ()
) -> Selection:
    """The tables a question is about, in the order the planner should try them, and
    the question with the reference removed ("how many rows in the second file" →
    "how many rows"), since the planner knows columns, not files.

    ``prefer``: table names to put first (the files attached to this very message,
    or the table the previous answer in the thread used).
    """
    selection = _by_ordinal(question, files) or _by_name(question, files)
    if selection is None:
        selection = Selection([t for f in files for t in f.tables], question)
    first = [t for t in selection.tables if t.name in prefer]
    rest = [t for t in selection.tables if t.name not in prefer]
    return Selection(first + rest, selection.question)


def _read(data: bytes, name: str, limits: IngestLimits) -> list[tuple[Table, DatasetProfile]]:
    return [(table, profile_table(table)) for table in load_tables_from_bytes(data, name, limits)]


class TableLoader:
    """Reads a stored dataset's tables (and their profiles) from the blob store, with a
    small LRU cache, so a thread's follow-ups neither re-parse nor re-profile the file.

    A blob key names one upload of one workspace and never changes, so a cached
    parse can never be stale or cross workspaces.
    """

    def __init__(self, blobs: BlobStore, limits: IngestLimits, *, cache_size: int = 16) -> None:
        self._blobs = blobs
        self._limits = limits
        self._cache: OrderedDict[str, list[tuple[Table, DatasetProfile]]] = OrderedDict()
        self._profiles: dict[int, DatasetProfile] = {}  # id(table) of cached tables only
        self._cache_size = cache_size

    def remember(self, blob_key: str, parsed: list[tuple[Table, DatasetProfile]]) -> None:
        self._cache[blob_key] = parsed
        self._cache.move_to_end(blob_key)
        self._profiles.update((id(table), profile) for table, profile in parsed)
        while len(self._cache) > self._cache_size:
            _, dropped = self._cache.popitem(last=False)
            for table, _profile in dropped:
                self._profiles.pop(id(table), None)

    def profile(self, table: Table) -> DatasetProfile:
        """The profile of a table this loader returned (computed now if evicted)."""
        return self._profiles.get(id(table)) or profile_table(table)

    async def parse(self, data: bytes, name: str) -> list[tuple[Table, DatasetProfile]]:
        """Tables and profiles of an upload (off the event loop: pandas is CPU work)."""
        return await asyncio.to_thread(_read, data, name, self._limits)

    async def load(self, dataset: Dataset) -> ThreadFile:
        parsed = self._cache.get(dataset.blob_key)
        if parsed is None:
            parsed = await self.parse(await self._blobs.get(dataset.blob_key), dataset.file_name)
            self.remember(dataset.blob_key, parsed)
        else:
            self._cache.move_to_end(dataset.blob_key)
        return ThreadFile(file_name=dataset.file_name, tables=[table for table, _ in parsed])

    async def load_all(self, rows: Sequence[Dataset]) -> list[ThreadFile]:
        return [await self.load(row) for row in rows]
