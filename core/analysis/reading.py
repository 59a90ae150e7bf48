"""The first half of reading a question: a token cursor and the filter passes.

:class:`Cursor` walks the tokens and records which ones have been claimed;
:class:`FilterReader` claims ranking ("top 5"), comparisons ("over 20",
"between 1990 and 2000"), years ("in 2007") and data values ("for dinner",
"non-smokers"). Grouping and aggregates are read in :mod:`core.analysis.interpret`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.analysis.columns import ColumnInfo
from core.analysis.matching import Token
from core.analysis.spec import Aggregation, ChartKind, Filter, FilterOp, Scalar, TimeBucket

_TEMPORAL = frozenset({"after", "before", "since", "until"})


class NotUnderstood(Exception):
    """The reason a question could not be mapped (becomes part of the user message)."""


@dataclass
class Reading:
    """What a question asks, before it is shaped into an AnalysisSpec."""

    filters: list[Filter] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    time_bucket: TimeBucket | None = None
    aggregations: list[Aggregation] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    """Columns named without an aggregate ("life expectancy of Japan")."""
    entity: str | None = None
    """The thing being ranked or picked ("which day", "top 5 countries")."""
    descending: bool | None = None
    limit: int | None = None
    wants_rows: bool = False
    operation: str | None = None
    chart: ChartKind | None = None
    scatter_pair: bool = False


class Cursor:
    """Tokens, which of them are claimed, and the :class:`Reading` being built."""

    def __init__(self, tokens: list[Token], columns: dict[str, ColumnInfo]) -> None:
        self.toks = tokens
        self.cols = columns
        self.used = [False] * len(tokens)
        self.r = Reading()

    def kind(self, i: int) -> str | None:
        return self.toks[i].kind if 0 <= i < len(self.toks) else None

    def free(self, i: int, kind: str | None = None) -> bool:
        if not 0 <= i < len(self.toks) or self.used[i]:
            return False
        return kind is None or self.toks[i].kind == kind

    def claim(self, *indexes: int) -> None:
        for i in indexes:
            self.used[i] = True

    def info(self, i: int) -> ColumnInfo:
        column = self.toks[i].column
        assert column is not None
        return self.cols[column]

    def time_target(self, freq: str) -> tuple[str, bool]:
        """(column, is_year_column) to bucket by ``freq``."""
        dates = [c for c, info in self.cols.items() if info.role == "datetime"]
        years = [c for c, info in self.cols.items() if info.role == "year"]
        if freq == "year" and len(years) == 1:
            return years[0], True
        if len(dates) == 1:
            return dates[0], False
        if not dates:
            raise NotUnderstood(f"there is no date column to split by {freq}")
        raise NotUnderstood(f"there are several date columns ({', '.join(dates)}); say which one")

    def names_a_key(self, i: int) -> bool:
        """Whether the column at ``i`` follows "by"/"which"/"vs", directly or in an and-list."""
        j = i - 1
        while self.kind(j) == "and" and self.kind(j - 1) == "column":
            j -= 2
        return self.kind(j) in ("group", "which", "vs")

    def year_target(self) -> str | None:
        for role in ("year", "datetime"):
            found = [c for c, info in self.cols.items() if info.role == role]
            if len(found) == 1:
                return found[0]
        return None


class FilterReader(Cursor):
    """The passes that claim ranking words, comparisons, years and data values."""

    def ranking(self) -> None:
        for i, tok in enumerate(self.toks):
            if tok.kind in ("top", "bottom") and self.free(i):
                self.r.descending = tok.kind == "top"
                self.claim(i)
                count = self.toks[i + 1].payload if self.free(i + 1, "number") else None
                if isinstance(count, int) and count > 0:
                    self.r.limit = count
                    self.claim(i + 1)
            elif (
                tok.kind == "number"
                and isinstance(tok.payload, int)
                and tok.payload > 0
                and self.free(i)
                and self.free(i + 1, "super")
            ):
                self.r.descending = bool(self.toks[i + 1].payload)
                self.r.limit = tok.payload
                self.claim(i, i + 1)

    def _subject(self, i: int, numbers: list[object]) -> str | None:
        """The column a comparison at ``i`` applies to: the one just before it, or the year.

        "lifeExp between 1990 and 2000" means years when lifeExp never reaches 1990;
        "after 2000" is about time whatever comes before it.
        """
        years = all(isinstance(n, int) and 1000 <= n <= 2999 for n in numbers)
        year_target = self.year_target() if years else None
        before = self.toks[i - 1] if self.free(i - 1, "column") else None
        if before is not None and self.info(i - 1).role in (
            "numeric",
            "integer",
            "year",
            "datetime",
        ):
            info = self.info(i - 1)
            temporal = self.toks[i].text in _TEMPORAL
            in_range = info.role in ("year", "datetime") or all(
                isinstance(n, int | float) and info.holds(n) for n in numbers
            )
            if year_target is None or (in_range and not temporal):
                self.claim(i - 1)
                return before.column
        return year_target

    def comparisons(self) -> None:
        for i, tok in enumerate(self.toks):
            if tok.kind != "cmp" or not self.free(i) or not self.free(i + 1, "number"):
                continue
            op: FilterOp = tok.payload  # type: ignore[assignment]
            low: Scalar = self.toks[i + 1].payload  # type: ignore[assignment]
            if op == "between":
                if not (self.kind(i + 2) == "and" and self.free(i + 3, "number")):
                    continue
                high: Scalar = self.toks[i + 3].payload  # type: ignore[assignment]
                column = self._subject(i, [low, high])
                if column is None:
                    continue
                self.r.filters.append(Filter(column=column, op="between", value=[low, high]))
                self.claim(i, i + 1, i + 2, i + 3)
                continue
            column = self._subject(i, [low])
            if column is not None:
                self.r.filters.append(Filter(column=column, op=op, value=low))
                self.claim(i, i + 1)

    def numbers(self) -> None:
        years: list[int] = []
        for i, tok in enumerate(self.toks):
            if not self.free(i, "number"):
                continue
            value = tok.payload
            if not isinstance(value, int):
                continue
            # "size 4" filters an integer column; "pop in 2007" is about the year.
            as_year = 1000 <= value <= 2999 and self.year_target() is not None
            after_integer = (
                self.free(i - 1, "column")
                and self.info(i - 1).role == "integer"
                and self.info(i - 1).holds(value)
            )
            if after_integer and as_year:
                raise NotUnderstood(
                    f"{value} could be a year or a value of {self.toks[i - 1].text}"
                )
            if after_integer:
                self.r.filters.append(Filter(column=str(self.toks[i - 1].column), value=value))
                self.claim(i - 1, i)
            elif as_year:
                years.append(value)
                self.claim(i)
        target = self.year_target()
        if years and target:
            self._add_equalities(target, list(years), [])

    def _add_equalities(self, column: str, wanted: list[Scalar], unwanted: list[Scalar]) -> None:
        if len(wanted) == 1:
            self.r.filters.append(Filter(column=column, value=wanted[0]))
        elif wanted:
            # "Lunch vs Dinner", "in 2002 and 2007": keep those and compare them.
            self.r.filters.append(Filter(column=column, op="in", value=wanted))
            if column not in self.r.group_by:
                self.r.group_by.append(column)
        if len(unwanted) == 1:
            self.r.filters.append(Filter(column=column, op="!=", value=unwanted[0]))
        elif unwanted:
            self.r.filters.append(Filter(column=column, op="not_in", value=unwanted))

    def values(self) -> None:
        found: dict[str, tuple[list[Scalar], list[Scalar]]] = {}
        for i, tok in enumerate(self.toks):
            negated = self.free(i - 1, "neg")
            if tok.kind == "value" and self.free(i):
                self.claim(i, *([i - 1] if negated else []))
                value: Scalar = tok.payload  # type: ignore[assignment]
                # "gold medals", "country Japan", "day = Sat": the value's own column
                # (and an "=" between them) just qualifies it.
                before = i - 1
                if not negated and self.free(before, "cmp") and self.toks[before].payload == "==":
                    before -= 1
                for j in (i + 1, before):
                    if self.free(j, "column") and self.toks[j].column == tok.column:
                        self.claim(*range(min(i, j), max(i, j) + 1))
            elif tok.kind == "column" and self.free(i) and self.info(i).role == "boolean":
                # "smokers", "non-smokers": a yes/no column named as a value.
                if self.names_a_key(i) and not negated:
                    continue
                info = self.info(i)
                self.claim(i, *([i - 1] if negated else []))
                value = info.falsy if negated else info.truthy  # type: ignore[assignment]
                negated = False
            else:
                continue
            wanted, unwanted = found.setdefault(str(tok.column), ([], []))
            (unwanted if negated else wanted).append(value)
        for column, (wanted, unwanted) in found.items():
            info = self.cols[column]
            if info.role == "boolean" and {str(v) for v in wanted} == {
                str(info.truthy),
                str(info.falsy),
            }:
                self.r.group_by.append(column)  # "smokers vs non-smokers": compare both
                continue
            self._add_equalities(column, wanted, unwanted)
        for i, tok in enumerate(self.toks):
            if tok.kind == "vs" and self.free(i) and self.r.group_by:
                self.claim(i)
