"""ChartRenderer against a real Chromium: sizes, concurrency, crashes, hangs, timeouts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kaleido
import plotly.graph_objects as go
import pytest

from core.charts import ChartRenderer, find_browser, png_size
from core.charts.browser import HardenedChromium, WarmKaleido, process_tree
from core.errors import RenderError

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


def bar(i: int = 0) -> go.Figure:
    fig = go.Figure(go.Bar(x=["Thur", "Fri", "Sat", "Sun"], y=[2.8, 2.7 + i, 3.0, 3.3 - i / 10]))
    return fig.update_layout(title_text=f"Mean tip by day #{i}")


def line() -> go.Figure:
    years = list(range(1952, 2008, 5))
    fig = go.Figure(go.Scatter(x=years, y=[49 + 1.5 * n for n in range(len(years))]))
    return fig.update_layout(title_text="Mean life expectancy by year")


def chromium_pids(launcher_pid: int | None) -> list[int]:
    """Chromium processes under the renderer's launcher; never anyone else's."""
    assert launcher_pid is not None, "renderer has no running browser"
    # The launcher is this process's child, so all below it were started by the test.
    assert launcher_pid in process_tree(os.getpid())
    return [pid for pid in process_tree(launcher_pid) if "chrom" in _proc(pid, "comm")]


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return ""


def assert_gone(pids: list[int], within: float = 5.0) -> None:
    """Every pid has exited (or is a zombie); polls because SIGKILL lands asynchronously."""
    deadline = time.monotonic() + within
    while True:
        alive = [
            p for p in pids if _proc(p, "stat").rsplit(")", 1)[-1].split()[:1] not in ([], ["Z"])
        ]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not alive, f"old browser processes still running: {alive}"


async def test_bar_renders_png_of_default_size(renderer: ChartRenderer) -> None:
    png = await renderer.render(bar())
    assert png_size(png) == (900, 540)


async def test_line_renders_png_of_requested_size(renderer: ChartRenderer) -> None:
    png = await renderer.render(line(), width=640, height=400)
    assert png_size(png) == (640, 400)


async def test_dict_figure_renders_like_the_figure(renderer: ChartRenderer) -> None:
    fig = bar(3)
    assert await renderer.render(fig.to_plotly_json()) == await renderer.render(fig)


def first_pixel(png: bytes) -> tuple[int, int, int]:
    """RGB of the top-left pixel (8-bit RGB/RGBA PNG).

    Whatever filter a PNG row uses, the first pixel of the first row is stored raw,
    so inflating the first few bytes of the image data is enough.
    """
    pos, data = 8, b""
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompressobj().decompress(data, 4)
    return raw[1], raw[2], raw[3]


def colour(i: int) -> tuple[int, int, int]:
    return (10 * i + 5, 120, 200)


async def assert_concurrent_renders_get_their_own_image(renderer: ChartRenderer) -> list[bytes]:
    # Each figure has its own background colour, so every PNG says whose it is.
    figures = [
        bar(i).update_layout(paper_bgcolor="rgb({},{},{})".format(*colour(i))) for i in range(20)
    ]
    pngs = await asyncio.gather(*(renderer.render(f) for f in figures))
    assert len(set(pngs)) == 20
    for i, png in enumerate(pngs):
        assert png_size(png) == (900, 540)
        assert first_pixel(png) == colour(i), f"render {i} got another figure's image"
    assert await renderer.render(figures[7]) == pngs[7]  # same bytes as rendered alone
    return pngs


async def test_concurrent_renders_each_get_their_own_image(renderer: ChartRenderer) -> None:
    await assert_concurrent_renders_get_their_own_image(renderer)


async def test_concurrent_renders_with_a_pool_of_tabs() -> None:
    async with ChartRenderer(tabs=2) as pooled:
        await assert_concurrent_renders_get_their_own_image(pooled)


async def test_killed_browser_is_restarted(renderer: ChartRenderer) -> None:
    await renderer.start()
    before = renderer.browser_pid
    victims = chromium_pids(before)
    assert victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    png = await renderer.render(line())  # no waiting: must cope however far death got
    assert png_size(png) == (900, 540)
    assert renderer.browser_pid not in (None, before)
    assert_gone(victims)


async def test_hung_browser_times_out_and_is_replaced_within_the_call(
    renderer: ChartRenderer,
) -> None:
    await renderer.start()
    before = renderer.browser_pid
    stopped = chromium_pids(before)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)  # alive but unresponsive
    png = await renderer.render(bar(1), attempt_timeout=2.0)
    assert png_size(png) == (900, 540)
    assert renderer.browser_pid not in (None, before)
    assert_gone(stopped)


async def test_repeated_timeout_raises_then_next_render_recovers(
    renderer: ChartRenderer,
) -> None:
    with pytest.raises(RenderError, match="failed twice"):
        await renderer.render(bar(2), attempt_timeout=0.001)
    png = await renderer.render(bar(2))
    assert png_size(png) == (900, 540)


async def test_scale_close_and_relaunch() -> None:
    r = ChartRenderer(width=300, height=200, scale=2.0)
    await r.start()
    await r.start()  # idempotent
    first = r.browser_pid
    assert first is not None
    assert png_size(await r.render(bar())) == (600, 400)
    await r.close()
    assert r.browser_pid is None
    assert png_size(await r.render(bar(), width=150, height=100)) == (300, 200)
    assert r.browser_pid not in (None, first)
    await r.close()


@pytest.fixture
def image_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every path requested from it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def with_logo(url: str) -> dict[str, Any]:
    fig = go.Figure(go.Bar(y=[1, 2]))
    fig.add_layout_image(source=url, x=0, y=1, sizex=0.5, sizey=0.5)
    return json.loads(fig.to_json())


async def test_no_request_leaves_the_browser(
    renderer: ChartRenderer, image_server: tuple[str, list[str]]
) -> None:
    base, hits = image_server
    png = await renderer.render(with_logo(f"{base}/renderer.png"))  # stripped before render
    assert png_size(png) == (900, 540)

    # The unsanitized figure, straight to kaleido: a stock browser fetches the logo
    # (so the silence below means something); the hardened one cannot reach it.
    opts = {"format": "png", "width": 300, "height": 200}
    path = find_browser()

    async def stock() -> None:
        async with kaleido.Kaleido(n=1, mathjax=False, path=path) as k:
            await k.calc_fig(with_logo(f"{base}/stock.png"), opts=opts)

    async def hardened() -> None:
        k = WarmKaleido(n=1, mathjax=False, path=path, browser_cls=HardenedChromium)
        async with k:
            await k.calc_fig(with_logo(f"{base}/hardened.png"), opts=opts)

    await asyncio.gather(stock(), hardened())
    assert "/stock.png" in hits
    assert "/hardened.png" not in hits and "/renderer.png" not in hits
