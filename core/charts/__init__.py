"""Chart rendering: plotly figures to PNG through one warm, network-isolated Chromium."""

from __future__ import annotations

from core.charts.browser import find_browser
from core.charts.renderer import ChartRenderer, png_size
from core.charts.sanitize import sanitize_figure

__all__ = ["ChartRenderer", "find_browser", "png_size", "sanitize_figure"]
