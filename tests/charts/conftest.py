"""Shared fixtures for chart tests: one real Chromium per module, no mocks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from core.charts import ChartRenderer, find_browser


@pytest.fixture(autouse=True, scope="session")
def _chromium_present() -> None:
    # Charts are part of the product: a missing browser fails the suite loudly
    # (`.ci/run` installs Debian's chromium) instead of skipping what it cannot check.
    if find_browser() is None:
        pytest.fail("no Chromium for chart tests: apt-get install chromium or set BROWSER_PATH")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def renderer() -> AsyncIterator[ChartRenderer]:
    async with ChartRenderer(timeout=10.0) as r:
        yield r
