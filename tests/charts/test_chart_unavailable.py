"""No usable browser: charts are off with an operator hint, and nothing else breaks."""

from __future__ import annotations

import sys

import plotly.graph_objects as go
import pytest

from core.charts import ChartRenderer, find_browser
from core.errors import RenderError

MISSING = "/nonexistent/chromium"


def test_explicit_path_wins_and_disables_search() -> None:
    assert find_browser(MISSING) is None
    assert find_browser(sys.executable) == sys.executable  # any executable file counts


def test_search_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    assert find_browser(search=False) is None


def test_browser_path_env_is_honoured_and_not_second_guessed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BROWSER_PATH", MISSING)
    assert find_browser() is None  # even if a chromium is installed elsewhere
    renderer = ChartRenderer()
    assert not renderer.available
    assert "BROWSER_PATH" in (renderer.unavailable_reason or "")
    monkeypatch.setenv("BROWSER_PATH", sys.executable)
    assert find_browser() == sys.executable


async def test_renderer_without_browser_reports_and_refuses() -> None:
    renderer = ChartRenderer(browser_path=MISSING)
    assert renderer.available is False
    reason = renderer.unavailable_reason
    assert reason is not None and reason.startswith("charts disabled:")
    assert MISSING in reason and "apt-get install chromium" in reason
    async with renderer as entered:  # entering must not fail: callers answer without charts
        with pytest.raises(RenderError) as info:
            await entered.render(go.Figure(go.Bar(y=[1, 2])))
        assert str(info.value) == reason
        with pytest.raises(RenderError):
            await entered.start()
    assert renderer.browser_pid is None


async def test_executable_that_is_not_a_browser_fails_fast_with_render_error() -> None:
    renderer = ChartRenderer(browser_path="/bin/false", timeout=5.0)
    assert renderer.available  # it exists; only launching tells
    with pytest.raises(RenderError, match="failed to start"):
        await renderer.render(go.Figure(go.Bar(y=[1, 2])))
    await renderer.close()
