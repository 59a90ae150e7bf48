"""A chart tab's page serves several figures before it is reloaded, and what one
figure draws never shows in another's image."""

from __future__ import annotations

import asyncio
from typing import Any

import plotly.graph_objects as go
import pytest

from core.charts import ChartRenderer, find_browser, png_size
from core.charts.browser import HardenedChromium, WarmKaleido

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

OPTS = {"format": "png", "width": 300, "height": 200}


def bar(i: int) -> go.Figure:
    return go.Figure(go.Bar(x=["Thur", "Fri", "Sat", "Sun"], y=[2.8, 2.7 + i, 3.0, 3.3]))


async def page_marks(k: WarmKaleido) -> list[Any]:
    """``window.nexusMark`` in every page of the browser (undefined after a load)."""
    marks = []
    for tab in list(k.tabs.values()):
        reply = await tab.send_command(
            "Runtime.evaluate", params={"expression": "window.nexusMark", "returnByValue": True}
        )
        marks.append(reply["result"]["result"].get("value"))
    return marks


async def mark_pages(k: WarmKaleido) -> None:
    for tab in list(k.tabs.values()):
        await tab.send_command("Runtime.evaluate", params={"expression": "window.nexusMark = 7"})


async def test_a_page_is_reloaded_after_every_n_renders() -> None:
    k = WarmKaleido(
        n=1, renders_per_page=3, mathjax=False, path=find_browser(), browser_cls=HardenedChromium
    )
    async with k:
        await mark_pages(k)
        for i in range(2):
            png = await k.calc_fig(bar(i), opts=OPTS)
            assert png_size(png) == (300, 200)
            assert 7 in await page_marks(k), f"page reloaded after render {i + 1} of 3"
        await k.calc_fig(bar(2), opts=OPTS)  # the third: its tab is reloaded now
        await k.calc_fig(bar(3), opts=OPTS)  # waits for the reloaded tab
        assert 7 not in await page_marks(k), "page not reloaded after 3 renders"


async def test_renders_per_page_must_be_positive() -> None:
    with pytest.raises(ValueError, match="renders_per_page"):
        ChartRenderer(renders_per_page=0)
    with pytest.raises(ValueError, match="renders_per_page"):
        WarmKaleido(renders_per_page=0)


def leftovers() -> list[go.Figure]:
    """Figures that try to leave something behind in a page: a template, a locale,
    a separator setting, a frame animation, an annotation outside the plot."""
    figures = [
        bar(9).update_layout(template="plotly_dark", title_text="dark"),
        bar(8).update_layout(separators=",.", yaxis_tickformat=",.2f"),
        bar(7).add_annotation(text="SECRET", x=0.5, y=1.4, xref="paper", yref="paper"),
        go.Figure(
            data=[go.Scatter(x=[1, 2], y=[1, 2])],
            frames=[go.Frame(data=[go.Scatter(x=[1, 2], y=[2, 1])])],
        ),
    ]
    localized = bar(6).to_plotly_json()
    localized["config"] = {"locale": "de"}
    return [*figures, go.Figure(localized)]


async def test_a_reused_page_draws_what_a_fresh_page_draws() -> None:
    probes = [bar(1), bar(2).update_layout(title_text="Mean tip by day")]
    async with ChartRenderer(renders_per_page=1, width=300, height=200) as fresh:
        expected = [await fresh.render(f) for f in probes]
    async with ChartRenderer(renders_per_page=50, width=300, height=200) as reused:
        for figure in leftovers():
            await reused.render(figure)
        got = await asyncio.gather(*(reused.render(f) for f in probes))
    assert got == expected
