"""The shared warm renderer as one job sees it: it says "Rendering chart…" first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import plotly.graph_objects as go

from core.charts.renderer import ChartRenderer

Progress = Callable[[str], Awaitable[None]]


class ReportingRenderer:
    """The shared warm renderer, saying "Rendering chart…" before each render."""

    def __init__(self, inner: ChartRenderer, progress: Progress) -> None:
        self._inner = inner
        self._progress = progress

    @property
    def available(self) -> bool:
        return self._inner.available

    @property
    def unavailable_reason(self) -> str | None:
        return self._inner.unavailable_reason

    async def render(self, figure: go.Figure | Mapping[str, Any], **options: Any) -> bytes:
        await self._progress("Rendering chart…")
        return await self._inner.render(figure, **options)
