"""Hypothesis strategies that damage a valid platform payload: a field somewhere in
the JSON tree is replaced by an arbitrary JSON value, removed, or the whole document
is swapped for another JSON type. What a buggy or hostile (but correctly signed)
sender could post."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def damaged(draw: st.DrawFn, payload: dict[str, Any]) -> Any:
    """``payload`` with one to three fields replaced or removed, or another document."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    document = copy.deepcopy(payload)
    paths = _paths(document)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced this path
    return document
