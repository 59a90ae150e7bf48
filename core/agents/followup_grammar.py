"""Reading a chart follow-up ("make it a line chart", "log scale", "only 2007, top 5").

Like the deterministic planner, this refuses rather than guesses: every word must be
an edit keyword, a filler word, a data value (or a column name right before one of
its values); anything else means the message is not a plain follow-up and the caller
asks the LLM (or treats it as a new question).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from pandas.api import types as ptypes

from core.analysis.spec import ChartKind, Scalar

CHART_WORDS: dict[str, ChartKind] = {
    "bar": "bar", "bars": "bar", "column": "bar", "columns": "bar", "line": "line",
    "lines": "line", "pie": "pie", "scatter": "scatter", "histogram": "histogram",
    "box": "box", "boxplot": "box", "heatmap": "heatmap",
}  # fmt: skip
_NOUNS = {"chart", "charts", "graph", "plot", "diagram"}
_FILLERS = {
    "make", "it", "its", "it's", "a", "an", "the", "as", "show", "me", "please", "now",
    "instead", "use", "using", "with", "on", "scale", "scaled", "axis", "switch", "to",
    "turn", "into", "can", "could", "would", "you", "change", "do", "same", "but", "and",
    "then", "of", "draw", "redraw", "display", "ok", "okay", "also", "try", "again",
    "sort", "sorted", "order", "ordered", "by", "value", "values", "them", "this", "that",
    "i", "want", "see", "like", "be", "is", "let's", "lets", "result", "results", "first",
    "rather", "than", "one", "from", "so", "thanks", "thank", "just", "only", "for", "in",
    "excluding", "exclude", "without", "except", "not", "no", "drop", "remove", "keep",
    "data", "rows", "version", "chart", "charts", "graph", "plot", "diagram", "hey",
}  # fmt: skip
_INCLUDE = {"only", "just", "for", "in", "keep"}
_EXCLUDE = {"excluding", "exclude", "without", "except", "not", "drop", "remove"}
_ASC = {"ascending", "asc", "lowest", "smallest", "increasing", "least", "bottom"}
_DESC = {"descending", "desc", "highest", "largest", "biggest", "decreasing", "most", "top"}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "fifty": 50,
}  # fmt: skip
_AXES = {"x": "x", "y": "y", "x-axis": "x", "y-axis": "y"}
_AMBIGUOUS = {"line", "lines", "column", "columns", "box"}
_TOKEN = re.compile(r"[^\s,;]+")
_MAX_VALUE_WORDS = 6
_MAX_INDEXED_DISTINCT = 20_000


@dataclass
class Edits:
    """What a follow-up asks to change; ``None`` fields stay as they were."""

    kind: ChartKind | None = None
    log_x: bool | None = None
    log_y: bool | None = None
    limit: int | None = None
    descending: bool | None = None
    keep: dict[str, list[Scalar]] = field(default_factory=dict)
    drop: dict[str, list[Scalar]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    """Value phrases seen without a dataset to resolve them against (routing only)."""

    def any(self) -> bool:
        return any(
            v is not None for v in (self.kind, self.log_x, self.log_y, self.limit, self.descending)
        ) or bool(self.keep or self.drop or self.unresolved)


class ValueIndex:
    """Which columns hold a given value (case-insensitive), for resolving "only Asia"."""

    def __init__(self, frame: pd.DataFrame, prefer: Iterable[str] = ()) -> None:
        self._values: dict[str, dict[str, Scalar]] = {}
        self._prefer = set(prefer)
        self.columns = {str(c).casefold(): str(c) for c in frame.columns}
        for column in frame.columns:
            self._add(str(column), frame[column])
        self.longest = max((len(k.split()) for v in self._values.values() for k in v), default=1)

    def _add(self, column: str, series: pd.Series) -> None:
        found: dict[str, Scalar] = {}
        if ptypes.is_datetime64_any_dtype(series):
            for year in series.dropna().dt.year.unique():
                found[str(int(year))] = int(year)
        elif ptypes.is_integer_dtype(series) and not ptypes.is_bool_dtype(series):
            unique = series.dropna().unique()
            if len(unique) <= _MAX_INDEXED_DISTINCT:
                found = {str(int(v)): int(v) for v in unique if 1000 <= v <= 2999}
        elif not ptypes.is_numeric_dtype(series):
            unique = series.dropna().unique()
            if len(unique) <= _MAX_INDEXED_DISTINCT:
                for value in unique:
                    text = " ".join(str(value).split())
                    found[text.casefold()] = text
        for key, value in found.items():
            self._values.setdefault(key, {})[column] = value

    def lookup(self, phrase: str, column: str | None = None) -> tuple[str, Scalar] | None:
        """(column, value) for ``phrase``; ``None`` when absent or ambiguous."""
        hits = self._values.get(phrase.casefold(), {})
        if column is not None:
            return (column, hits[column]) if column in hits else None
        if len(hits) > 1:
            hits = {c: v for c, v in hits.items() if c in self._prefer}
        if len(hits) != 1:
            return None
        [(name, value)] = hits.items()
        return name, value


def _words(text: str) -> list[str]:
    tokens = [t.strip(".!?:()\"'“”").casefold() for t in _TOKEN.findall(text)]
    return [t for t in tokens if t]


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def parse_edits(text: str, index: ValueIndex | None) -> Edits | None:
    """The edits ``text`` asks for, or ``None`` if any word is not accounted for."""
    words = _words(text)
    edits = Edits()
    exclude = False
    scale: bool | None = None
    axes = {w[0] for w in words if w in _AXES}
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        prev = words[i - 1] if i else ""
        if word in _EXCLUDE:
            exclude = True
        elif word in _INCLUDE:
            exclude = False
        if word in _AXES:
            pass
        elif word in ("log", "logarithmic", "log-scale", "semilog"):
            scale = True
        elif word in ("log-log", "loglog"):
            scale, axes = True, {"x", "y"}
        elif word == "linear":
            scale = False
        elif word in CHART_WORDS and (
            nxt in _NOUNS or prev in ("a", "an", "as", "into", "to") or word not in _AMBIGUOUS
        ):
            edits.kind = CHART_WORDS[word]
        elif word in ("top", "first", "bottom", "last") and _count(nxt) is not None:
            edits.limit = _count(nxt)
            edits.descending = word in ("top", "first")
            i += 2
            continue
        elif word in _ASC or word in _DESC:
            edits.descending = word in _DESC
        elif word in _FILLERS:
            pass
        else:
            taken = _value(words, i, index, edits, exclude)
            if taken == 0:
                return None
            i += taken
            continue
        i += 1
    if scale is not None:
        # "log scale" means the value axis; "linear" undoes both unless an axis is named.
        axes = axes or ({"y"} if scale else {"x", "y"})
        if "x" in axes:
            edits.log_x = scale
        if "y" in axes:
            edits.log_y = scale
    return edits if edits.any() else None


def _value(words: list[str], i: int, index: ValueIndex | None, edits: Edits, exclude: bool) -> int:
    """Consume a data value at ``words[i]`` (maybe after its column's name); 0 if none."""
    target = edits.drop if exclude else edits.keep
    if index is None:
        # Routing without data: a phrase after "only"/"without" is presumably a value.
        if i > 0 and (words[i - 1] in _INCLUDE | _EXCLUDE or edits.unresolved):
            edits.unresolved.append(words[i])
            return 1
        return 0
    column = index.columns.get(words[i])
    start = i + 1 if column is not None else i
    longest = min(index.longest, _MAX_VALUE_WORDS, len(words) - start)
    for size in range(longest, 0, -1):
        found = index.lookup(" ".join(words[start : start + size]), column)
        if found is not None:
            name, value = found
            values = target.setdefault(name, [])
            if value not in values:
                values.append(value)
            return start + size - i
    return 0
