"""The deterministic planner: a question in plain words → an :class:`AnalysisSpec`.

No LLM, no network, no guessing. Every content word of the question has to be
accounted for (a column, a data value, an aggregate/grouping/chart word or a
stopword); otherwise the planner refuses with :class:`QuestionNotUnderstoodError`
so the caller can hand the question to the LLM planner or tell the user what was
not understood. Answering a smaller question than the one asked is the failure
this module exists to avoid.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydantic import ValidationError

from core.analysis.columns import ColumnInfo, describe_columns
from core.analysis.execute import aggregation_label
from core.analysis.filters import apply_filters, describe_filter
from core.analysis.interpret import NotUnderstood, Reader, Reading, entity_is_unique
from core.analysis.lexicon import words_of
from core.analysis.matching import build_vocabulary, tokenize
from core.analysis.spec import Aggregation, AnalysisSpec, ChartSpec, Sort
from core.datasets.models import DatasetProfile, Table
from core.errors import QuestionNotUnderstoodError

_DEFAULT_TOP = 10
_LISTED_COLUMNS = 12


@dataclass
class Plan:
    spec: AnalysisSpec
    table_index: int
    """Which of the given tables answers the question."""
    explanation: str
    """One line, e.g. ``mean of tip grouped by day``."""


def _distribution(r: Reading, question: str) -> AnalysisSpec:
    if len(r.measures) != 1 or r.aggregations:
        raise NotUnderstood("a distribution is of exactly one column; say which")
    keys = ([r.entity] if r.entity else []) + r.group_by
    chart = ChartSpec(kind=r.chart) if r.chart in ("histogram", "box", "bar") else None
    return AnalysisSpec(
        operation="distribution",
        columns=r.measures,
        group_by=keys,
        filters=r.filters,
        chart=chart,
        title=question,
    )


def _ranked_rows(r: Reading, frame: pd.DataFrame, question: str) -> AnalysisSpec:
    if len(r.measures) != 1 or r.group_by or r.time_bucket:
        raise NotUnderstood("I can rank by one column at a time")
    measure = r.measures[0]
    columns: list[str] = []
    if r.entity:
        if not entity_is_unique(apply_filters(frame, r.filters), r.entity):
            raise NotUnderstood(
                f"each {r.entity} appears in several rows, so say how to combine {measure} "
                f'(e.g. "highest total {measure}" or "highest average {measure}")'
            )
        columns = [r.entity, measure]
    return AnalysisSpec(
        operation="rows",
        filters=r.filters,
        columns=columns,
        sort=Sort(column=measure, descending=bool(r.descending)),
        limit=r.limit or _DEFAULT_TOP,
        chart=ChartSpec(kind=r.chart) if r.chart else None,
        title=question,
    )


def _lookup(r: Reading, cols: dict[str, ColumnInfo], question: str) -> AnalysisSpec:
    """ "life expectancy of Japan in 2007": the matching rows' values, no aggregate."""
    measure = r.measures[0]
    if r.group_by or r.time_bucket:
        key = (r.group_by or [r.time_bucket.column if r.time_bucket else ""])[0]
        raise NotUnderstood(
            f"I can't tell how to combine {measure} per {key}: "
            f'say average, total, median, max or min (e.g. "average {measure} by {key}")'
        )
    if not r.filters:
        raise NotUnderstood(
            f'I can\'t tell what to compute about {measure} (e.g. "average {measure}")'
        )
    fixed = {f.column for f in r.filters if f.op == "=="}
    free_time = [
        c for c, info in cols.items() if info.role in ("year", "datetime") and c not in fixed
    ]
    columns = [c for c in free_time[:1] if c not in r.measures] + r.measures
    return AnalysisSpec(operation="rows", filters=r.filters, columns=columns, title=question)


def _aggregate(r: Reading, question: str) -> AnalysisSpec:
    if r.measures:
        m = r.measures[0]
        raise NotUnderstood(f'I can\'t tell what to do with "{m}" (e.g. "average {m}")')
    keys = ([r.entity] if r.entity else []) + [g for g in r.group_by if g != r.entity]
    sort = None
    limit = r.limit
    if r.descending is not None:
        if not keys and not r.time_bucket:
            raise NotUnderstood(
                'I can\'t tell what should be ranked (e.g. "which day has the highest total tip")'
            )
        sort = Sort(column=r.aggregations[0].output_name, descending=r.descending)
        limit = r.limit or _DEFAULT_TOP
    return AnalysisSpec(
        operation="aggregate",
        filters=r.filters,
        group_by=keys,
        time_bucket=r.time_bucket,
        aggregations=r.aggregations,
        sort=sort,
        limit=limit,
        chart=ChartSpec(kind=r.chart) if r.chart else None,
        title=question,
    )


def shape_spec(
    r: Reading, frame: pd.DataFrame, cols: dict[str, ColumnInfo], question: str
) -> AnalysisSpec:
    """Turn a :class:`Reading` into the spec that answers it, or refuse."""
    if (
        not r.aggregations
        and len(r.measures) == 1
        and r.operation is None
        and not r.scatter_pair
        and words_of(r.measures[0])[:1] in (["total"], ["sum"])
    ):
        # "total sales by region" on a `Total Sales` column: the name says sum.
        r.aggregations = [Aggregation(func="sum", column=r.measures[0])]
        r.measures = []
    keys = ([r.entity] if r.entity else []) + r.group_by
    if r.operation == "distribution" or (r.chart in ("histogram", "box") and not r.aggregations):
        return _distribution(r, question)
    if r.operation == "correlation":
        if r.aggregations or keys or len(r.measures) == 1:
            raise NotUnderstood("a correlation is between two or more numeric columns")
        return AnalysisSpec(
            operation="correlation", columns=r.measures, filters=r.filters, title=question
        )
    if r.operation == "describe":
        if r.aggregations:
            raise NotUnderstood("a summary is of columns, not of an aggregate")
        return AnalysisSpec(
            operation="describe", columns=r.measures + keys, filters=r.filters, title=question
        )
    if (r.scatter_pair or r.chart == "scatter") and len(r.measures) == 2 and not r.aggregations:
        y, x = r.measures
        color = keys[0] if keys else None
        return AnalysisSpec(
            operation="rows",
            columns=[x, y, *([color] if color else [])],
            filters=r.filters,
            chart=ChartSpec(kind="scatter", x=x, y=y, color=color),
            title=question,
        )
    if r.aggregations:
        return _aggregate(r, question)
    if r.measures and r.descending is not None:
        return _ranked_rows(r, frame, question)
    if r.measures:
        if len(r.measures) > 1 and not r.filters:
            raise NotUnderstood(f"I can't tell what to compute about {' and '.join(r.measures)}")
        return _lookup(r, cols, question)
    if r.wants_rows and not keys:
        return AnalysisSpec(operation="rows", filters=r.filters, title=question)
    raise NotUnderstood("I can't tell what to compute")


def explain(spec: AnalysisSpec) -> str:
    """One line saying what the spec computes, in the data's own column names."""
    if spec.operation == "aggregate":
        text = ", ".join(aggregation_label(a) for a in spec.aggregations)
    elif spec.operation == "rows":
        text = f"values of {', '.join(spec.columns)}" if spec.columns else "matching rows"
    elif spec.operation == "correlation":
        text = f"correlation of {', '.join(spec.columns) or 'all numeric columns'}"
    elif spec.operation == "describe":
        text = f"summary of {', '.join(spec.columns) or 'all columns'}"
    else:
        text = f"distribution of {spec.columns[0]}"
    if spec.time_bucket:
        text += f" per {spec.time_bucket.freq} of {spec.time_bucket.column}"
    if spec.group_by:
        text += f" grouped by {', '.join(spec.group_by)}"
    if spec.filters:
        text += " where " + " and ".join(describe_filter(f) for f in spec.filters)
    if spec.sort:
        text += f", {'highest' if spec.sort.descending else 'lowest'} {spec.sort.column} first"
    if spec.limit:
        text += f", top {spec.limit}" if spec.limit > 1 else ", only the first"
    return text


def _example(cols: dict[str, ColumnInfo]) -> str:
    measure = next((c for c, i in cols.items() if i.is_measure), None)
    group = next((c for c, i in cols.items() if i.role in ("category", "boolean")), None)
    if measure and group:
        return f"average {measure} by {group}"
    if measure:
        return f"average {measure}"
    return f"how many rows by {group}" if group else "how many rows are there"


def _refusal(table: Table, cols: dict[str, ColumnInfo], reason: str) -> str:
    names = list(cols)
    shown = ", ".join(names[:_LISTED_COLUMNS]) + (", ..." if len(names) > _LISTED_COLUMNS else "")
    return (
        f"I couldn't understand that question about {table.name}: {reason}. "
        f'Its columns are {shown}. Try, for example, "{_example(cols)}".'
    )


def _plan_one(question: str, table: Table) -> tuple[AnalysisSpec, int]:
    vocab = build_vocabulary(table.frame, table.name)
    tokens = tokenize(question, vocab)
    if not tokens:
        raise NotUnderstood("there is no question to answer")
    reading = Reader(tokens, vocab.columns).read()
    try:
        spec = shape_spec(reading, table.frame, vocab.columns, question)
    except ValidationError as exc:  # a combination the spec cannot express
        raise NotUnderstood("the parts of the question don't fit together") from exc
    references = sum(1 for t in tokens if t.kind in ("column", "value"))
    return spec, references


def plan_question(question: str, tables: list[Table], profiles: list[DatasetProfile]) -> Plan:
    """Map ``question`` to a spec on one of ``tables``; refuse rather than guess."""
    if not tables:
        raise QuestionNotUnderstoodError(
            "There is no data to answer that from yet: attach a file first."
        )
    plans: list[tuple[int, AnalysisSpec, int]] = []
    refusals: list[str] = []
    for index, table in enumerate(tables):
        try:
            spec, references = _plan_one(question, table)
        except NotUnderstood as exc:
            refusals.append(_refusal(table, describe_columns(table.frame), str(exc)))
            continue
        if index < len(profiles):
            spec.check_against(profiles[index])
        plans.append((index, spec, references))
    if not plans:
        raise QuestionNotUnderstoodError(
            refusals[0] if len(refusals) == 1 else " ".join(refusals[:3])
        )
    best = max(references for _, _, references in plans)
    top = [p for p in plans if p[2] == best]
    index, spec, _ = top[0]
    explanation = explain(spec)
    if len(tables) > 1:
        explanation += f" (from {tables[index].name}"
        explanation += ", the first of several files that fit)" if len(top) > 1 else ")"
    return Plan(spec=spec, table_index=index, explanation=explanation)
