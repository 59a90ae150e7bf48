"""A representative little analysis, run where it saves a run's time.

In the fork server (``full``) it compiles and caches the usual code paths once,
shared by every child. In an idle slot (before any run arrives, before lock-down)
a lighter version takes the copy-on-write page faults that a run's first pandas
call would otherwise pay on the clock: ~9 ms of idle time saves ~7 ms per run.
"""

from __future__ import annotations

import contextlib
import io
import sys


def exercise(*, full: bool = False) -> None:
    """Read a CSV, group it, serialise the table (and more when ``full``); never raises."""
    with contextlib.suppress(Exception):
        from core.sandbox.serialize import to_item

        if "pandas" in sys.modules:
            import pandas as pd

            rows = 2000 if full else 200
            frame = pd.DataFrame(
                {"g": [i % 7 for i in range(rows)], "v": [i / 7 for i in range(rows)]}
            )
            frame = pd.read_csv(io.StringIO(frame.to_csv(index=False)))
            to_item(frame.groupby("g")["v"].mean())
            if full:
                frame["s"] = frame["g"].astype(str)
                to_item(frame.groupby("s", as_index=False)["v"].agg(["mean", "sum"]))
                to_item(frame.describe())
        if full and "plotly.express" in sys.modules:
            import plotly.express as px

            to_item(px.bar(x=[1, 2, 3], y=[3, 1, 2], title="warm"))
