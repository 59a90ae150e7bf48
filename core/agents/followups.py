"""Chart follow-ups: edit the previous answer's spec without calling the LLM.

"make it a line chart", "log scale", "only 2007", "only Asia", "top 10", "sort
ascending" are edits of the stored :class:`AnalysisSpec`; the engine re-runs the
edited spec. Anything the grammar (:mod:`core.agents.followup_grammar`) cannot read
completely returns ``None``, and the caller asks the LLM to edit the spec instead.
"""

from __future__ import annotations

from pydantic import ValidationError

from core.agents.followup_grammar import Edits, ValueIndex, parse_edits
from core.analysis.execute import execute_spec
from core.analysis.figures import default_chart
from core.analysis.filters import describe_filter
from core.analysis.spec import AnalysisSpec, ChartKind, ChartSpec, Filter, Sort
from core.datasets.models import Table
from core.errors import InputError

_TITLE_SEPARATOR = " — "


def looks_like_followup(text: str) -> bool:
    """True when ``text`` reads as a plain edit of a previous answer (for routing)."""
    return parse_edits(text, None) is not None


def _chart_kind(spec: AnalysisSpec, table: Table | None) -> ChartKind | None:
    """The chart the previous answer showed: its own, or the default for its result."""
    if spec.chart is not None:
        return spec.chart.kind
    if table is None:
        return None
    try:
        return default_chart(execute_spec(spec, table), spec)
    except InputError:
        return None


def _apply_chart(spec: AnalysisSpec, edits: Edits, table: Table | None) -> bool:
    if edits.kind is None and edits.log_x is None and edits.log_y is None:
        return True
    kind = edits.kind or _chart_kind(spec, table)
    if kind is None:
        return False
    if (edits.log_x or edits.log_y) and kind in ("pie", "heatmap"):
        return False  # a log scale on a pie or heatmap means nothing; ask the LLM
    chart = spec.chart.model_copy() if spec.chart is not None else ChartSpec(kind=kind)
    chart.kind = kind
    if kind in ("pie", "heatmap"):
        chart.log_x = chart.log_y = False
    if edits.log_x is not None:
        chart.log_x = edits.log_x
    if edits.log_y is not None:
        chart.log_y = edits.log_y
    spec.chart = chart
    return True


def _apply_order(spec: AnalysisSpec, edits: Edits) -> bool:
    if edits.limit is None and edits.descending is None:
        return True
    if spec.operation not in ("aggregate", "rows"):
        return False
    if spec.sort is None:
        if spec.operation != "aggregate":
            return False  # rows with no ranking column: by what?
        spec.sort = Sort(column=spec.aggregations[0].output_name)
    if edits.descending is not None:
        spec.sort = spec.sort.model_copy(update={"descending": edits.descending})
    if edits.limit is not None:
        spec.limit = edits.limit
    return True


def _apply_filters(spec: AnalysisSpec, edits: Edits) -> None:
    changed = set(edits.keep) | set(edits.drop)
    if not changed:
        return
    kept = [f for f in spec.filters if f.column not in changed]
    for column, values in edits.keep.items():
        if len(values) == 1:
            kept.append(Filter(column=column, op="==", value=values[0]))
        else:
            kept.append(Filter(column=column, op="in", value=values))
    for column, values in edits.drop.items():
        kept.append(Filter(column=column, op="not_in", value=values))
    spec.filters = kept
    base = (spec.title or "").split(_TITLE_SEPARATOR)[0]
    shown = "; ".join(describe_filter(f) for f in kept)
    spec.title = f"{base}{_TITLE_SEPARATOR}{shown}" if base else shown


def apply_followup(
    previous: AnalysisSpec, text: str, *, table: Table | None = None
) -> AnalysisSpec | None:
    """The edited spec, or ``None`` when ``text`` is not an edit this module can make.

    ``table`` is the dataset the previous answer used: filter values ("only Asia")
    are resolved against its values, and a chart edit on an answer that had no
    explicit chart starts from the chart it showed by default.
    """
    index = ValueIndex(table.frame, prefer=previous.referenced_columns()) if table else None
    edits = parse_edits(text, index)
    if edits is None or edits.unresolved:
        return None
    spec = previous.model_copy(deep=True)
    if not _apply_chart(spec, edits, table) or not _apply_order(spec, edits):
        return None
    _apply_filters(spec, edits)
    try:
        # Re-validate the whole: an edit must not produce a spec the executor refuses.
        return AnalysisSpec.model_validate(spec.model_dump())
    except ValidationError:
        return None
