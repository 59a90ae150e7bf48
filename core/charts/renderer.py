"""One warm Chromium per process that turns plotly figures into PNG bytes.

Starting a browser costs 2-4 s (facts.md), so the bot keeps one open and reuses it.
kaleido >= 1.0 drives it: a ``kaleido.Kaleido`` is a choreographer browser with a
queue of tabs, each showing kaleido's page with plotly.js loaded from disk. We use the
async API from the event loop; kaleido's sync server is not thread-safe and is not used.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import plotly
import plotly.graph_objects as go
from kaleido.errors import KaleidoError

from core.charts.browser import (
    HardenedChromium,
    WarmKaleido,
    find_browser,
    kill_process_group,
    unavailable_reason,
)
from core.charts.sanitize import sanitize_figure
from core.errors import RenderError
from core.logging import get_logger

log = get_logger("charts")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# plotly.js shipped inside plotly.py: kaleido would fall back to a CDN without it.
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
_SHUTDOWN_SECONDS = 5.0


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError if ``data`` is not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


class _BrowserLost(RuntimeError):
    """A render was cut short because its browser was shut down under it."""


class ChartRenderer:
    """Render plotly figures to PNG with one persistent, restartable Chromium.

    Safe for concurrent ``render()`` calls from one event loop: at most ``tabs``
    renders are in flight (one per kaleido tab); the rest wait their turn, and that
    wait does not count against ``timeout``. A render that times out or loses its
    browser restarts the browser and is retried once; then RenderError.

    A tab's page is reloaded after every ``renders_per_page`` renders, not after each
    (:class:`~core.charts.browser.WarmKaleido` says why that is safe): the reload
    costs six times the CPU of drawing a small chart.
    """

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        browser_path: str | None = None,
        width: int = 900,
        height: int = 540,
        scale: float = 1.0,
        tabs: int = 1,
        renders_per_page: int = 50,
        search: bool = True,
        on_render: Callable[[float], None] | None = None,
    ) -> None:
        if timeout <= 0 or width <= 0 or height <= 0 or scale <= 0:
            raise ValueError("timeout, width, height and scale must be > 0")
        if tabs < 1 or renders_per_page < 1:
            raise ValueError("tabs and renders_per_page must be >= 1")
        self._timeout = timeout
        self._width = width
        self._height = height
        self._scale = scale
        self._tabs = tabs
        self._renders_per_page = renders_per_page
        self._browser_path = find_browser(browser_path, search=search)
        self._reason = None if self._browser_path else unavailable_reason(browser_path)
        self._slots = asyncio.Semaphore(tabs)
        self._lifecycle = asyncio.Lock()
        self._kaleido: WarmKaleido | None = None
        # Bumped by close(): renders begun before it must not relaunch the browser.
        self._epoch = 0
        self._on_render = on_render
        """Told the seconds of each successful render (``nexus_chart_render_seconds``)."""

    @property
    def available(self) -> bool:
        """True when a browser executable was found."""
        return self._browser_path is not None

    @property
    def unavailable_reason(self) -> str | None:
        """Why charts are off and how to enable them, or None when available."""
        return self._reason

    @property
    def browser_path(self) -> str | None:
        return self._browser_path

    @property
    def browser_pid(self) -> int | None:
        """PID of the running browser's launcher (its process group), if running."""
        k = self._kaleido
        return k.subprocess.pid if k is not None and k.healthy() else None

    async def start(self) -> None:
        """Launch the browser now if it is not running (idempotent)."""
        if self._browser_path is None:
            raise RenderError(self._reason or "charts disabled")
        await self._ensure_started(self._epoch)

    async def close(self) -> None:
        """Stop the browser; a later render() or start() launches a new one."""
        async with self._lifecycle:
            self._epoch += 1
            k, self._kaleido = self._kaleido, None
            if k is not None:
                await self._shutdown(k)

    async def __aenter__(self) -> ChartRenderer:
        # Without a browser, entering still succeeds: render() then raises RenderError
        # with the operator hint and the caller answers without a chart.
        if self.available:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def render(
        self,
        figure: go.Figure | Mapping[str, Any],
        *,
        width: int | None = None,
        height: int | None = None,
        attempt_timeout: float | None = None,
    ) -> bytes:
        """PNG bytes of ``figure`` at ``width``x``height`` layout pixels times ``scale``.

        ``attempt_timeout`` overrides the renderer's per-attempt timeout for this call.
        """
        if self._browser_path is None:
            raise RenderError(self._reason or "charts disabled")
        w, h = width or self._width, height or self._height
        if w <= 0 or h <= 0:
            raise ValueError("width and height must be positive")
        # Off the event loop: validating a large figure takes tens of milliseconds.
        spec = await asyncio.to_thread(sanitize_figure, figure)
        opts = {"format": "png", "width": w, "height": h, "scale": self._scale}
        expected = (round(w * self._scale), round(h * self._scale))
        epoch = self._epoch
        started = time.perf_counter()
        failure: Exception | None = None
        for attempt in (1, 2):
            k = await self._ensure_started(epoch)
            try:
                png = await self._render_once(k, spec, opts, attempt_timeout or self._timeout)
                _check_png(png, expected)
                if self._on_render is not None:
                    self._on_render(time.perf_counter() - started)
                return png
            except KaleidoError as exc:
                # plotly.js rejected the figure itself; another browser would too.
                raise RenderError(f"plotly could not draw the figure: {exc}") from exc
            except Exception as exc:  # timeout, dead or hung browser, broken image
                failure = exc
                log.warning("chart render failed", attempt=attempt, error=repr(exc))
                await self._discard(k)
        raise RenderError(f"chart rendering failed twice: {failure!r}") from failure

    async def _render_once(
        self, k: WarmKaleido, spec: dict[str, Any], opts: dict[str, Any], limit: float
    ) -> bytes:
        async with self._slots:
            # A task of its own because Kaleido.close() cancels the tasks that called
            # calc_fig: a restart triggered by one render must not cancel its callers.
            child: asyncio.Task[bytes] = asyncio.create_task(k.calc_fig(spec, opts=opts))
            deadline = asyncio.timeout(limit)
            try:
                async with deadline:
                    return await child
            except BaseException as exc:
                # choreographer turns the cancellation of a pending pipe write into
                # ChannelClosedError, so say what really happened.
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise asyncio.CancelledError from exc  # our caller cancelled us
                if deadline.expired():
                    raise TimeoutError(f"render took over {limit:g}s") from exc
                if isinstance(exc, asyncio.CancelledError):
                    raise _BrowserLost("render cancelled by a browser shutdown") from None
                raise
            finally:
                if not child.done():
                    child.cancel()

    async def _ensure_started(self, epoch: int) -> WarmKaleido:
        async with self._lifecycle:
            if epoch != self._epoch:
                raise RenderError("chart renderer was closed during the render")
            k = self._kaleido
            if k is not None and k.healthy():
                return k
            if k is not None:
                self._kaleido = None
                log.warning("chart browser is gone; restarting it")
                await self._shutdown(k, kill=True)
            self._kaleido = await self._launch()
            return self._kaleido

    async def _discard(self, k: WarmKaleido) -> None:
        """Shut ``k`` down unless a concurrent render already replaced it."""
        async with self._lifecycle:
            if self._kaleido is not k:
                return
            self._kaleido = None
            await self._shutdown(k, kill=True)

    async def _launch(self) -> WarmKaleido:
        k: WarmKaleido | None = None
        try:
            k = WarmKaleido(
                n=self._tabs,
                renders_per_page=self._renders_per_page,
                timeout=None,  # ours, in _render_once, also covers a stuck tab reload
                plotlyjs=_PLOTLY_JS,
                mathjax=False,  # MathJax would come from a CDN
                path=self._browser_path,
                browser_cls=HardenedChromium,
                enable_extensions=False,
            )
            async with asyncio.timeout(max(self._timeout, 30.0)):
                await k.open()
        except Exception as exc:
            if k is not None:
                await self._shutdown(k, kill=True)
            # First argument only: choreographer's later ones suggest downloading Chrome.
            why = f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}"
            raise RenderError(
                f"charts unavailable: Chromium at {self._browser_path} failed to start ({why})"
            ) from exc
        log.info("chart browser started", path=self._browser_path, pid=k.subprocess.pid)
        return k

    async def _shutdown(self, k: WarmKaleido, *, kill: bool = False) -> None:
        """Close ``k``; with ``kill`` (it just failed: a hung browser ignores a polite
        close), SIGKILL it first. Kill it anyway if closing does not finish."""
        if kill:
            k.kill()
        try:
            async with asyncio.timeout(_SHUTDOWN_SECONDS):
                await k.close()  # also removes its temporary profile and page
        except Exception as exc:
            log.warning("chart browser did not close cleanly", error=repr(exc))
        kill_process_group(getattr(k, "subprocess", None))


def _check_png(data: object, expected: tuple[int, int]) -> None:
    if not isinstance(data, bytes):
        raise ValueError(f"renderer returned {type(data).__name__}, not PNG bytes")
    size = png_size(data)
    # plotly.js sizes the canvas from width*scale; allow a pixel for its rounding.
    if abs(size[0] - expected[0]) > 1 or abs(size[1] - expected[1]) > 1:
        raise ValueError(f"PNG is {size[0]}x{size[1]}, expected {expected[0]}x{expected[1]}")
