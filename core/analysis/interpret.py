"""Read a token list as an analysis: filters, groups, aggregates, ranking.

The reader works in passes over the tokens, each pass claiming the tokens it
understands. Whatever is left unclaimed at the end means the question says
something the spec would not capture, so :class:`NotUnderstood` is raised
instead of answering a smaller question.
"""

from __future__ import annotations

import pandas as pd

from core.analysis.lexicon import singular, words_of
from core.analysis.reading import FilterReader, NotUnderstood, Reading
from core.analysis.spec import AggregateFunc, Aggregation, TimeBucket

__all__ = ["NotUnderstood", "Reader", "Reading", "entity_is_unique"]

_SOFT = frozenset({"and", "or", "which", "chart"})
_NUMERIC_FUNCS = frozenset({"sum", "mean", "median", "std"})
# Column-name words meaning "each row already counts several things".
_COUNT_WORDS = frozenset({"count", "cnt", "quantity", "qty", "number", "num", "n", "frequency"})
_COUNT_WORDS |= {"freq", "unit", "occurrence", "case"}


class Reader(FilterReader):
    """Reads a whole question; :meth:`read` runs every pass in order."""

    def read(self) -> Reading:
        unknown = [t.text for t in self.toks if t.kind == "unknown"]
        if unknown:
            raise NotUnderstood("I don't know " + ", ".join(f'"{w}"' for w in unknown))
        for tok in self.toks:
            if tok.kind in ("column", "value") and len(tok.options) > 1:
                names = ", ".join(c for c, _ in tok.options)
                raise NotUnderstood(f'"{tok.text}" could be in several columns ({names})')
        self.ranking()
        self.comparisons()
        self.numbers()
        self.values()
        self.grouping()
        self.aggregates()
        self.operations()
        self.leftovers()
        return self.r

    def _key(self, i: int) -> str | None:
        """Claim the grouping target at ``i`` (a column or a time unit) if there is one."""
        tok = self.toks[i] if self.free(i) else None
        if tok is None:
            return None
        if tok.kind == "column" and not self.info(i).is_measure:
            self.claim(i)
            return tok.column
        if tok.kind == "column" and self.info(i).role == "integer" and not self.r.aggregations:
            self.claim(i)  # "average tip by size": small integers group fine
            return tok.column
        if tok.kind == "unit":
            column, is_year = self.time_target(str(tok.payload))
            self.claim(i)
            if is_year:
                return column
            self.r.time_bucket = TimeBucket(column=column, freq=tok.payload)
            return None
        return None

    def grouping(self) -> None:
        for i, tok in enumerate(self.toks):
            ranker = tok.kind in ("top", "bottom") or (tok.kind == "number" and self.used[i])
            if not self.free(i) and not ranker:
                continue
            if tok.kind == "time":
                column, is_year = self.time_target(str(tok.payload))
                if is_year:
                    self.r.group_by.append(column)
                else:
                    self.r.time_bucket = TimeBucket(column=column, freq=tok.payload)
                self.claim(i)
            elif tok.kind == "which" or ranker:
                if self.free(i + 1, "column") and not self.info(i + 1).is_measure:
                    self.r.entity = self.toks[i + 1].column
                    self.claim(i, i + 1)
            elif tok.kind in ("mode", "antimode") and self.free(i + 1, "column"):
                self.r.entity = self.toks[i + 1].column
                self.r.aggregations.append(Aggregation(func="count"))
                self.r.descending, self.r.limit = tok.kind == "mode", self.r.limit or 1
                self.claim(i, i + 1)
        for i, tok in enumerate(self.toks):
            if tok.kind in ("group", "vs") and self.free(i):
                if (
                    self.r.entity
                    and self.r.descending is not None
                    and self.kind(i + 1) in ("agg", "column", "count")
                    and (self.kind(i + 1) != "column" or self.info(i + 1).is_measure)
                ):
                    self.claim(i)  # "top 5 countries BY gdp": the ranking measure follows
                    continue
                if (
                    tok.kind == "vs"
                    and self.kind(i + 1) == "column"
                    and self.info(i + 1).is_measure
                ):
                    continue  # "tip vs total bill": a scatter, decided later
                key = self._key(i + 1)
                if key is None and not self.used[i + 1 if i + 1 < len(self.toks) else i]:
                    continue
                self.claim(i)
                j = i + 1
                while key is not None:
                    if key not in self.r.group_by:
                        self.r.group_by.append(key)
                    j += 1
                    key = self._key(j + 1) if self.kind(j) == "and" else None
                    if key is not None:
                        self.claim(j)
                        j += 1

    def _attach(self, funcs: list[AggregateFunc], i: int) -> None:
        column = str(self.toks[i].column)
        info = self.cols[column]
        for func in funcs:
            if func == "count" and not info.is_measure:
                func = "nunique"  # "how many countries": distinct countries
            if func in _NUMERIC_FUNCS and not info.is_measure:
                raise NotUnderstood(f"{column} is not numeric, so I can't take its {func}")
            agg = Aggregation(func=func, column=column)
            if agg not in self.r.aggregations:
                self.r.aggregations.append(agg)
        self.claim(i)

    def _refuse_ambiguous_count(self) -> None:
        """ "how many gold medals" counts rows; wrong if rows already hold counts."""
        for name, info in self.cols.items():
            if info.is_measure and _COUNT_WORDS & {singular(w) for w in words_of(name)}:
                raise NotUnderstood(
                    f"rows here carry a `{name}` column, so I can't tell whether to count rows "
                    f'or add up {name} (say "number of rows ..." or "total {name} ...")'
                )

    def aggregates(self) -> None:
        pending: list[AggregateFunc] = []
        last: list[AggregateFunc] = []
        superlative: bool | None = None
        for i, tok in enumerate(self.toks):
            if not self.free(i):
                continue
            if tok.kind == "agg":
                func: AggregateFunc = tok.payload  # type: ignore[assignment]
                if func == "nunique" and pending and pending[-1] == "count":
                    pending[-1] = "nunique"
                elif not (func == "sum" and self.kind(i + 1) == "count"):  # "total number of"
                    pending.append(func)
                self.claim(i)
            elif tok.kind == "count":
                pending.append("count")
                self.claim(i)
            elif tok.kind == "super":
                superlative = bool(tok.payload)
                self.claim(i)
            elif tok.kind == "filler" and self.kind(i + 1) == "column":
                self.claim(i)
            elif tok.kind == "rows":
                self.claim(i)
                if pending or superlative is not None:
                    self.r.aggregations.append(Aggregation(func="count"))
                    pending = [f for f in pending if f != "count"]
                else:
                    self.r.wants_rows = True
            elif tok.kind == "column":
                if pending:
                    self._attach(pending, i)
                    last, pending = pending, []
                elif self.kind(i - 1) == "and" and last:
                    self._attach(last, i)
                    self.claim(i - 1)
                else:
                    self.r.measures.append(str(tok.column))
                    self.claim(i)
                    if superlative is not None and not (self.r.entity or self.r.group_by):
                        self.r.measures.pop()
                        self.r.aggregations.append(
                            Aggregation(func="max" if superlative else "min", column=tok.column)
                        )
                        superlative = None
                        continue
                if superlative is not None and self.r.descending is None:
                    self.r.descending, self.r.limit = superlative, 1
                    superlative = None
        if pending == ["count"] or pending == ["nunique"]:
            self._refuse_ambiguous_count()
            self.r.aggregations.append(Aggregation(func="count"))
        elif pending:
            raise NotUnderstood(f"I can't tell what to take the {pending[0]} of")
        if superlative is not None:
            if not self.r.aggregations:
                raise NotUnderstood("I can't tell what should be highest or lowest")
            self.r.descending, self.r.limit = superlative, self.r.limit or 1

    def operations(self) -> None:
        for i, tok in enumerate(self.toks):
            if tok.kind in ("distribution", "correlation", "describe") and self.free(i):
                self.r.operation = tok.kind
                self.claim(i)
                if (
                    tok.kind == "correlation"
                    and self.free(i + 1, "cmp")
                    and self.toks[i + 1].text == "between"
                ):
                    self.claim(i + 1)  # "correlation between X and Y"
            elif tok.kind == "chart" and tok.payload is not None:
                self.r.chart = tok.payload  # type: ignore[assignment]
                self.claim(i)
            elif tok.kind == "vs" and self.free(i) and len(self.r.measures) == 2:
                self.r.scatter_pair = True
                self.claim(i)

    def leftovers(self) -> None:
        left = [t.text for i, t in enumerate(self.toks) if not self.used[i] and t.kind not in _SOFT]
        if left:
            raise NotUnderstood(
                "I'm not sure what " + ", ".join(f'"{w}"' for w in left) + " refers to"
            )


def entity_is_unique(frame: pd.DataFrame, column: str) -> bool:
    return bool(frame[column].dropna().is_unique)
