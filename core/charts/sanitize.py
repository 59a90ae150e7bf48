"""Reduce an untrusted plotly figure to plain JSON that renders offline.

Figures come from generated code, and the Chromium that renders them runs without a
sandbox and with file access (see facts.md). So the renderer never sees the Python
object, only its JSON, and this module removes what would make the page fetch
something: image URLs, map tiles, topojson, and plotly ``config`` (which can point
``topojsonURL`` anywhere). The browser's dead proxy
(:mod:`core.charts.browser`) is the backstop for whatever this misses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from core.errors import RenderError

# Trace types that cannot draw without network data: MapLibre tiles and the topojson
# that geo traces load from cdn.plot.ly (plotly 7 dropped the *mapbox types; a dict
# naming one fails validation). Dropping them would leave an empty or misleading
# chart, so such figures are refused and the answer goes out without it.
NETWORK_TRACE_TYPES = frozenset(
    {"scattergeo", "choropleth", "scattermap", "choroplethmap", "densitymap"}
)


def _is_inline(source: object) -> bool:
    """True for a data: image URI, the only image source that needs no fetch.

    Everything else is dropped: http(s) and protocol-relative URLs reach the network,
    and relative or file: paths would read local files next to kaleido's page.
    """
    return isinstance(source, str) and source.strip().lower().startswith("data:image/")


def _strip_sources(node: object) -> None:
    """Remove every non-inline ``source`` (layout and template images, image traces)."""
    if isinstance(node, dict):
        images = node.get("images")
        if isinstance(images, list):
            node["images"] = [
                img
                for img in images
                if not (isinstance(img, dict) and "source" in img and not _is_inline(img["source"]))
            ]
        if "source" in node and not _is_inline(node["source"]):
            del node["source"]
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return
    for child in children:
        # Skip scalars quickly: data arrays can hold many thousands of numbers.
        if isinstance(child, dict | list):
            _strip_sources(child)


def _first_line(exc: Exception, limit: int = 200) -> str:
    # plotly's validation errors list every valid property; keep the first line.
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:limit]


def sanitize_figure(figure: go.Figure | Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``figure`` and return ``{"data": [...], "layout": {...}}`` safe to render.

    Raises RenderError when the figure is not a plotly figure or needs the network.
    """
    if isinstance(figure, go.Figure):
        fig = figure
    elif isinstance(figure, Mapping):
        try:
            # Only data and layout: frames are not drawn in a still image, and config
            # could point plotly.js at remote resources.
            fig = go.Figure(
                {"data": figure.get("data") or [], "layout": figure.get("layout") or {}}
            )
        except (ValueError, TypeError) as exc:
            raise RenderError(f"not a valid plotly figure: {_first_line(exc)}") from exc
    else:
        raise RenderError(f"expected a plotly Figure or dict, got {type(figure).__name__}")

    # plotly.io encodes numpy arrays as typed base64 ("bdata"), which is also the
    # cheapest form to send to the browser.
    spec = json.loads(pio.to_json(fig, validate=False))
    data = spec.get("data") or []
    layout = spec.get("layout") or {}
    blocked = sorted({t.get("type") for t in data if t.get("type") in NETWORK_TRACE_TYPES})
    if blocked:
        raise RenderError(f"chart type needs map data from the network: {', '.join(blocked)}")
    for key in ("mapbox", "map", "geo"):
        layout.pop(key, None)  # subplots of the refused types; may carry tokens and URLs
    clean: dict[str, Any] = {"data": data, "layout": layout}
    _strip_sources(clean)
    return clean
