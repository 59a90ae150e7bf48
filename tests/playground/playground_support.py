"""Helpers of the playground tests: a real `nexus dev` process and the page in Chromium.

:func:`start_dev` runs ``python -m bot dev`` on a free port with its own data dir and
no Redis (the in-process defaults), and waits for ``/readyz``. :class:`ChatPage`
drives the page the way a person does (type, attach, send) and waits on what
appears, through Playwright's auto-waiting assertions, never a sleep.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from playwright.async_api import Browser, Locator, Page, Playwright, expect

from core import admin
from core.storage.db import Database

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts" / "playground"
"""Screenshots of a run (git-ignored); copied to :data:`LEAD_COPY` as well."""
LEAD_COPY = Path("/tmp/playground-shots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UPLOAD_LIMIT = 64 * 1024
"""NEXUS_MAX_FILE_BYTES of the dev process: tips.csv (~8 KB) fits, 10 copies do not."""
ANSWER_SECONDS = 90.0
"""The first job also waits for the worker's warm-up (renderer, sandbox)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DevServer:
    process: asyncio.subprocess.Process
    url: str
    data_dir: Path
    log: Path
    env: dict[str, str]

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    async def admin(self, *args: str) -> str:
        """``nexus admin ARGS`` against the same data dir, as an operator would run it."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "admin", *args, cwd=self.data_dir.parent, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate()
        assert process.returncode == 0, out.decode()
        return out.decode()

    async def set_quotas(self, **changes: float) -> None:
        """What ``nexus admin quotas set`` runs (``core.admin``), on the same database."""
        database = Database(f"sqlite+aiosqlite:///{self.data_dir / 'nexus.db'}")
        try:
            async with database.session() as session:
                await admin.set_quotas(session, "playground:local", dict(changes))
        finally:
            await database.dispose()


async def start_dev(tmp: Path, extra_env: Mapping[str, str]) -> DevServer:
    port = free_port()
    drop = ("REDIS_URL", "DATABASE_URL", "NEXUS_PLAYGROUND", "ANTHROPIC_API_KEY", "GROQ_API_KEY")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        NEXUS_PORT=str(port),
        NEXUS_DATA_DIR=str(tmp / "data"),
        PYTHONPATH=str(REPO),
        COLUMNS="200",  # rich tables of `nexus admin` unwrapped
        **extra_env,
    )
    log = tmp / "dev.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "dev", cwd=tmp, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = DevServer(process, f"http://127.0.0.1:{port}", tmp / "data", log, env)
    # Generous: on a loaded 2-core machine `nexus dev` has taken over 3 minutes to start.
    async with asyncio.timeout(300), aiohttp.ClientSession() as session:
        while True:  # starting: retry until it answers (no event to wait on across processes)
            assert process.returncode is None, log.read_text()
            try:
                async with session.get(f"{server.url}/readyz") as response:
                    if response.status == 200:
                        return server
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)


async def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, never a Playwright-downloaded one."""
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )


def save_screenshot_copy(path: Path) -> None:
    LEAD_COPY.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, LEAD_COPY / path.name)


class ChatPage:
    """One browser tab on the playground."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    async def open(self) -> None:
        await self.page.goto(f"{self.base_url}/")
        await expect(self.page.locator("#thread-title")).to_contain_text("Thread ")

    async def act_as(self, user: str) -> None:
        await self.page.get_by_test_id("actor").fill(user)
        await expect(self.page.get_by_test_id("acting")).to_have_text(f"acting as {user}")

    async def send(self, text: str, files: list[Path] | None = None) -> None:
        if files:
            await self.page.get_by_test_id("file-input").set_input_files(files)
            await expect(self.page.get_by_test_id("attachments")).to_contain_text(files[0].name)
        await self.page.get_by_test_id("text").fill(text)
        await self.page.get_by_test_id("send").click()

    def replies(self) -> Locator:
        return self.page.get_by_test_id("reply")

    async def reply(self, number: int) -> Locator:
        """The ``number``-th reply of the thread (1-based), once it is there."""
        replies = self.replies()
        await expect(replies).to_have_count(number, timeout=ANSWER_SECONDS * 1000)
        return replies.nth(number - 1)

    async def table(self, reply: Locator) -> dict[str, float]:
        """The first two columns of the reply's table as ``{label: number}``."""
        rows = reply.get_by_test_id("result-table").locator("tbody tr")
        shown: dict[str, float] = {}
        for row in await rows.all():
            cells = await row.locator("td").all_inner_texts()
            shown[cells[0]] = float(cells[1].replace(",", ""))
        return shown

    async def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        save_screenshot_copy(path)
        print(f"screenshot: {path} (copy in {LEAD_COPY})")
        return path
