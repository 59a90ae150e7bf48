"""Read JSON and JSON Lines files that hold a table, and refuse the ones that do not.

APIs and exports wrap records in many ways: a bare array, ``{"data": [...]}`` with
some metadata beside it, one object per line, or a dict of columns. These shapes
are unwrapped and nested objects flattened into dotted columns
(``address.city``). JSON that is not a table (a config file, a tree nested many
levels deep, several unrelated lists) is refused with a message that says which
shape would work, rather than producing a frame nobody can query.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from core.datasets.delimited import decode_text
from core.datasets.guards import check_rows, empty_file
from core.errors import MalformedFileError
from core.settings import IngestLimits

MAX_DEPTH = 5
"""Objects nested deeper than this are not a table any more."""
_WRAPPER_LEVELS = 2
_SHAPE_HINT = (
    'Upload a list of records like [{"column": value, ...}, ...] or JSON Lines'
    " (one object per line)."
)


class _NotTabular(Exception):
    """The JSON parsed but has no table in it; the message says why."""


def _depth(value: Any, level: int = 0) -> int:
    if isinstance(value, dict) and value:
        if level > MAX_DEPTH:
            return level + 1
        return max(_depth(child, level + 1) for child in value.values())
    return level


def _read_json_lines(text: str, name: str, first_error: json.JSONDecodeError) -> list[Any]:
    """Parse one JSON value per non-blank line; the first line must be an object."""
    values: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if not values:
                raise _invalid(name, first_error) from first_error
            raise MalformedFileError(
                f"{name} is JSON Lines, but line {number} is not valid JSON ({exc.msg})."
                " Fix or remove that line and upload the file again.",
                detail=str(exc),
            ) from exc
        if not values or not isinstance(values[0], dict):
            raise _invalid(name, first_error) from first_error
    return values


def _invalid(name: str, exc: json.JSONDecodeError) -> MalformedFileError:
    return MalformedFileError(
        f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        " Fix the file (or export it again) and upload it.",
        detail=str(exc),
    )


def _records(document: Any, levels: int = _WRAPPER_LEVELS) -> list[dict[str, Any]]:
    """Find the list of records in ``document``; raise ``_NotTabular`` when there is none."""
    if isinstance(document, list):
        if not document:
            raise _NotTabular("it holds an empty list, so there are no rows")
        if all(isinstance(item, dict) for item in document):
            return document
        if all(item is None or isinstance(item, str | int | float | bool) for item in document):
            return [{"value": item} for item in document]
        if all(isinstance(item, list) for item in document) and all(
            isinstance(cell, str) for cell in document[0]
        ):
            header = document[0]
            return [dict(zip(header, row, strict=False)) for row in document[1:]]
        raise _NotTabular("its list mixes objects, lists and plain values")
    if not isinstance(document, dict):
        raise _NotTabular("it holds a single value, not rows")
    lists = {k: v for k, v in document.items() if isinstance(v, list) and v}
    record_lists = [k for k, v in lists.items() if all(isinstance(item, dict) for item in v)]
    if len(record_lists) == 1:
        return lists[record_lists[0]]
    if len(record_lists) > 1:
        keys = ", ".join(f'"{k}"' for k in record_lists[:4])
        raise _NotTabular(f"it holds several lists of records ({keys}); put one table per file")
    if document and len(lists) == len(document) and len({len(v) for v in lists.values()}) == 1:
        length = len(next(iter(lists.values())))
        return [{k: v[i] for k, v in lists.items()} for i in range(length)]
    if document and all(isinstance(v, dict) for v in document.values()):
        inner = list(document.values())
        if len(document) == 1 and levels > 0:
            return _records(inner[0], levels - 1)
        if all(not any(isinstance(x, dict | list) for x in v.values()) for v in inner):
            return [{"key": k, **v} for k, v in document.items()]
    if len(document) == 1 and levels > 0:
        return _records(next(iter(document.values())), levels - 1)
    raise _NotTabular("it is a single object, not a list of rows")


def read_json(data: bytes, name: str, limits: IngestLimits) -> pd.DataFrame:
    """Parse JSON or JSON Lines into a flat frame (nested objects become dotted columns)."""
    text = decode_text(data, name).lstrip("\ufeff")
    if not text.strip():
        raise empty_file(name)
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        document = _read_json_lines(text, name, exc)
    except RecursionError as exc:  # the parser's stack, not a table: [[[[...]]]]
        raise MalformedFileError(
            f"{name} nests more than {MAX_DEPTH} levels deep, which does not fit in a table."
            f" {_SHAPE_HINT}"
        ) from exc
    try:
        records = _records(document)
    except _NotTabular as exc:
        raise MalformedFileError(
            f"{name} is valid JSON but not a table: {exc}. {_SHAPE_HINT}"
        ) from exc
    if not records:  # e.g. a header row and nothing under it: [["a", "b"]]
        raise MalformedFileError(f"{name} is valid JSON but holds no rows. {_SHAPE_HINT}")
    check_rows(name, len(records), limits)
    depth = max(_depth(record) for record in records[:1000])
    if depth > MAX_DEPTH:
        raise MalformedFileError(
            f"{name} nests objects more than {MAX_DEPTH} levels deep, which does not fit"
            f" in a table. {_SHAPE_HINT}"
        )
    return pd.json_normalize(records, sep=".")
