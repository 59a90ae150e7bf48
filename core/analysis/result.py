"""What executing a spec (or sandboxed code) produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd
import plotly.graph_objects as go

ResultKind = Literal["scalar", "table", "none"]


@dataclass
class AnalysisResult:
    """A computed answer: a scalar or a table, an optional figure, and how it was made."""

    kind: ResultKind
    value: float | int | str | None = None
    """The scalar (``kind == "scalar"``); for tables, ``None``."""
    value_label: str | None = None
    """What the scalar is, e.g. ``mean of tip`` (used in the narrative)."""
    table: pd.DataFrame | None = None
    """The result table (``kind == "table"``); also a 1×1 table for scalars."""
    figure: go.Figure | None = None
    rows_in: int = 0
    """Rows of the dataset before filters."""
    rows_used: int = 0
    """Rows that survived the filters and fed the computation."""
    notes: list[str] = field(default_factory=list)
    """Caveats worth telling the user (e.g. rows dropped for missing values)."""
