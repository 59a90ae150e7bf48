"""The reviewer: looks at a finished answer before it is posted and adds caveats.

Deterministic checks, no LLM: an empty result, result columns with no values, a
filter that kept a tiny share of the rows, groups of one row (an identifier used as
a category), and aggregates whose units make the number misleading (summing rates,
percentages or per-capita figures).
"""

from __future__ import annotations

import re

from core.analysis.spec import AnalysisSpec
from core.answer import Answer

# Filters keeping less than this share of the rows get a caveat.
SMALL_SHARE = 0.05
_RATE_WORDS = re.compile(
    r"(rate|ratio|pct|percent|share|percap|per_capita|per capita|avg|average|mean|%|_per_)",
    re.IGNORECASE,
)


def _empty(answer: Answer) -> list[str]:
    result, receipt = answer.result, answer.receipt
    if result.kind == "scalar" and result.value is not None:
        return []
    if result.kind == "table" and result.rows:
        return []
    if receipt.rows_used == 0 and receipt.rows_in > 0:
        return ["No rows passed the filters, so there is nothing to report; check the values."]
    return ["The result is empty: there is no number or row to report."]


def _all_missing(answer: Answer) -> list[str]:
    result = answer.result
    if result.kind != "table" or not result.rows:
        return []
    empty = [
        name
        for i, name in enumerate(result.columns)
        if all(row[i] is None for row in result.rows if i < len(row))
    ]
    if not empty:
        return []
    listed = ", ".join(f"`{c}`" for c in empty)
    scope = "" if answer.receipt.rows_total <= len(result.rows) else " in the rows shown"
    return [f"{listed} has no values at all{scope} (every cell is missing)."]


def _small_share(answer: Answer, spec: AnalysisSpec | None) -> list[str]:
    receipt = answer.receipt
    if spec is None or not spec.filters or receipt.rows_in == 0 or receipt.rows_used == 0:
        return []
    share = receipt.rows_used / receipt.rows_in
    if share >= SMALL_SHARE:
        return []
    return [
        f"The filters kept only {receipt.rows_used:,} of {receipt.rows_in:,} rows "
        f"({share:.1%}); check they match what you meant."
    ]


def _single_row_groups(answer: Answer, spec: AnalysisSpec | None) -> list[str]:
    receipt = answer.receipt
    if spec is None or spec.operation != "aggregate" or not spec.group_by or spec.limit:
        return []
    if receipt.rows_used < 20 or receipt.rows_total < receipt.rows_used:
        return []
    keys = ", ".join(spec.group_by)
    return [
        f"Every group of {keys} holds a single row, so grouping did not combine anything; "
        f"{keys} may be an identifier rather than a category."
    ]


def _units(spec: AnalysisSpec | None) -> list[str]:
    if spec is None or spec.operation != "aggregate":
        return []
    notes = []
    for agg in spec.aggregations:
        if agg.func == "sum" and agg.column and _RATE_WORDS.search(agg.column):
            notes.append(
                f"`{agg.column}` looks like a rate, percentage or per-unit figure; adding "
                "those up rarely gives a meaningful total (an average may be what you want)."
            )
    return notes


def review(answer: Answer, spec: AnalysisSpec | None = None) -> list[str]:
    """Caveats for ``answer`` (``spec`` is what produced it; ``None`` for code answers)."""
    caveats = _empty(answer)
    if not caveats:
        caveats = _all_missing(answer) + _small_share(answer, spec)
        caveats += _single_row_groups(answer, spec) + _units(spec)
    return caveats


def with_caveats(answer: Answer, caveats: list[str]) -> Answer:
    """``answer`` with new caveats appended to its text and receipt notes (no repeats)."""
    fresh = [c for c in caveats if c not in answer.text and c not in answer.receipt.notes]
    if not fresh:
        return answer
    answer.text = " ".join([answer.text, *fresh])
    answer.receipt = answer.receipt.model_copy(update={"notes": [*answer.receipt.notes, *fresh]})
    return answer
