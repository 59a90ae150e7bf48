"""Fixtures of the playground tests.

The browser tests share one `nexus dev` process (it takes seconds to warm up its chart
renderer) and one Chromium per module, on the module's event loop; each test opens its
own tab and its own thread. The dev process gets a small upload limit, so an
"oversized" file is small to make, and an OpenAI key pointing at a fake server on
loopback, so a question the rule planner cannot answer waits on a request the test
holds (that is how "progress while a job runs" is observed without timing luck).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import plotly.express as px
import pytest
import pytest_asyncio
from llm.fakes import FakeLLMServer
from playground_support import UPLOAD_LIMIT, ChatPage, DevServer, launch_chromium, start_dev
from playwright.async_api import Browser, async_playwright


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, tips_csv: bytes) -> Path:
    """tips.csv and an oversized CSV, as files to pick in the browser."""
    folder = tmp_path_factory.mktemp("uploads")
    (folder / "tips.csv").write_bytes(tips_csv)
    tips = px.data.tips()
    big = tips.sample(n=len(tips) * 10, replace=True, random_state=1).to_csv(index=False).encode()
    assert len(big) > UPLOAD_LIMIT
    (folder / "big-tips.csv").write_bytes(big)
    return folder


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def openai() -> AsyncIterator[FakeLLMServer]:
    server = FakeLLMServer("openai")
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dev(
    tmp_path_factory: pytest.TempPathFactory, openai: FakeLLMServer
) -> AsyncIterator[DevServer]:
    tmp = tmp_path_factory.mktemp("dev")
    server = await start_dev(
        tmp,
        {
            "NEXUS_MAX_FILE_BYTES": str(UPLOAD_LIMIT),
            "OPENAI_API_KEY": openai.api_key,
            "OPENAI_BASE_URL": openai.base_url,
            "NEXUS_LLM_CHAIN": "openai",
            "NEXUS_SANDBOX_PRELOAD": '["pandas"]',
            "NEXUS_SANDBOX_CONCURRENCY": "1",
            # `nexus admin` cannot reach this process's in-memory member cache: no cache.
            "NEXUS_MEMBER_CACHE": "0",
        },
    )
    yield server
    code = await server.stop()
    assert code == 0, server.log.read_text()[-4000:]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(loop_scope="module")
async def chat(browser: Browser, dev: DevServer) -> AsyncIterator[ChatPage]:
    """A fresh tab on a fresh thread."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = ChatPage(await context.new_page(), dev.url)
    await page.open()
    yield page
    await context.close()
