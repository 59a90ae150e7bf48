"""Turn Python objects into JSON-safe structured results.

Runs *inside* the sandbox (both backends: the local child imports it, the E2B
backend ships this source to the kernel), so it uses only the standard library
at import time and looks pandas/numpy/plotly up in ``sys.modules`` when needed.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

MAX_TEXT = 100_000
MAX_JSON = 1_000_000


def to_item(obj: Any, *, name: str | None = None, max_rows: int = 10_000) -> dict[str, Any]:
    """One structured result: table, figure, scalar, text or json."""
    item = _convert(obj, max_rows)
    if name is not None:
        item["name"] = str(name)[:200]
    return item


def _convert(obj: Any, max_rows: int) -> dict[str, Any]:
    pd = sys.modules.get("pandas")
    np = sys.modules.get("numpy")
    basedatatypes = sys.modules.get("plotly.basedatatypes")
    if pd is not None:
        if isinstance(obj, pd.DataFrame):
            return _table(obj, max_rows)
        if isinstance(obj, pd.Series):
            return _table(
                obj.to_frame(name=obj.name if obj.name is not None else "value"), max_rows
            )
        if isinstance(obj, pd.Index):
            return _table(obj.to_frame(index=False), max_rows)
    if basedatatypes is not None and isinstance(obj, basedatatypes.BaseFigure):
        import plotly.io

        return {"kind": "figure", "figure": json.loads(plotly.io.to_json(obj, validate=False))}
    if np is not None:
        if isinstance(obj, np.generic):
            obj = obj.item()
        elif isinstance(obj, np.ndarray):
            if obj.ndim == 0:
                obj = obj.item()
            elif obj.ndim <= 2 and pd is not None:
                return _table(pd.DataFrame(obj), max_rows)
            else:
                obj = obj.tolist()
    if obj is None or isinstance(obj, (bool, int, float)):
        if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) > 2**63:
            return {"kind": "text", "value": str(obj)}
        return {"kind": "scalar", "value": _finite(obj)}
    if isinstance(obj, str):
        return {"kind": "text", "value": obj[:MAX_TEXT]}
    if isinstance(obj, (dict, list, tuple)):
        value = _jsonable(obj, depth=0)
        if len(json.dumps(value)) <= MAX_JSON:
            return {"kind": "json", "value": value}
    return {"kind": "text", "value": repr(obj)[:MAX_TEXT]}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _jsonable(value: Any, depth: int) -> Any:
    if depth > 20:
        return repr(value)[:200]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in list(value.items())[:10_000]}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v, depth + 1) for v in list(value)[:100_000]]
    return str(value)[:MAX_TEXT]


def _column_names(columns: Any) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for col in columns:
        label = " / ".join(str(c) for c in col) if isinstance(col, tuple) else str(col)
        base, n = label, 1
        while label in seen:
            n += 1
            label = f"{base}_{n}"
        seen.add(label)
        names.append(label)
    return names


def _table(df: Any, max_rows: int) -> dict[str, Any]:
    pd = sys.modules["pandas"]
    index = df.index
    # A meaningful index (group keys, dates, names) becomes ordinary columns,
    # the way an analyst reads a group-by result.
    # An unnamed integer index (0..n, or what a filter left of it) is dropped.
    if (
        isinstance(index, pd.MultiIndex)
        or index.name is not None
        or not pd.api.types.is_integer_dtype(index.dtype)
    ):
        df = df.reset_index()
    total = len(df)
    head = df.head(max_rows).copy()
    head.columns = _column_names(head.columns)
    payload = json.loads(
        head.to_json(
            orient="split", date_format="iso", default_handler=str, index=False,
            double_precision=15,
        )
    )  # fmt: skip
    columns = list(head.columns)
    records = [dict(zip(columns, row, strict=False)) for row in payload["data"]]
    return {
        "kind": "table",
        "columns": columns,
        "records": records,
        "total_rows": total,
        "truncated": total > len(records),
    }
