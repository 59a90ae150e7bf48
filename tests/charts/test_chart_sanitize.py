"""Untrusted figures are reduced to data + layout with no way to reach the network."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from core.charts import sanitize_figure
from core.errors import RenderError

PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4"
    "nGNgYPj/HwADAgH/e3DxWAAAAABJRU5ErkJggg=="
)
URLS = [
    "http://example.com/logo.png",
    "https://example.com/logo.png",
    "//example.com/logo.png",
    "file:///etc/passwd",
    "logo.png",
]


def with_images(sources: list[str]) -> go.Figure:
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    for source in sources:
        fig.add_layout_image(source=source, x=0, y=1, sizex=0.2, sizey=0.2)
    return fig


def test_layout_images_from_urls_are_dropped_inline_ones_kept() -> None:
    fig = with_images([*URLS, PIXEL])
    clean = sanitize_figure(fig)
    assert [img["source"] for img in clean["layout"]["images"]] == [PIXEL]
    assert len(fig.layout.images) == len(URLS) + 1  # the caller's figure is untouched


def test_template_images_and_image_trace_sources_are_stripped() -> None:
    fig = go.Figure(go.Image(source="https://example.com/cat.png"))
    fig.update_layout(template={"layout": {"images": [{"source": "https://example.com/x.png"}]}})
    clean = sanitize_figure(fig)
    assert "source" not in clean["data"][0]
    assert clean["layout"]["template"]["layout"].get("images", []) == []
    assert "https://" not in json.dumps(clean)


def test_dict_input_keeps_only_data_and_layout() -> None:
    figure = {
        "data": [{"type": "bar", "y": [1, 2]}],
        "layout": {"title": {"text": "t"}},
        "config": {"topojsonURL": "https://evil.example/"},
        "frames": [{"layout": {"images": [{"source": "https://evil.example/i.png"}]}}],
    }
    clean = sanitize_figure(figure)
    assert set(clean) == {"data", "layout"}
    assert "evil" not in json.dumps(clean)


@pytest.mark.parametrize(
    "trace",
    [
        go.Scattergeo(lat=[0], lon=[0]),
        go.Choropleth(locations=["FRA"], z=[1]),
        go.Scattermap(lat=[0], lon=[0]),
        go.Densitymap(lat=[0], lon=[0]),
    ],
)
def test_traces_that_need_network_map_data_are_refused(trace: go.BaseTraceType) -> None:
    with pytest.raises(RenderError, match="map data from the network"):
        sanitize_figure(go.Figure(trace))


def test_invalid_figures_raise_render_error_with_a_short_message() -> None:
    with pytest.raises(RenderError) as info:
        sanitize_figure({"data": [{"type": "bar", "no_such_property": 1}]})
    assert "\n" not in str(info.value) and len(str(info.value)) < 300
    with pytest.raises(RenderError):
        sanitize_figure("<svg onload=alert(1)>")  # type: ignore[arg-type, unused-ignore]


def test_output_is_plain_json_with_numpy_data() -> None:
    rng = np.random.default_rng(1)
    clean = sanitize_figure(go.Figure(go.Scatter(x=rng.random(1000), y=rng.random(1000))))
    assert json.loads(json.dumps(clean)) == clean
