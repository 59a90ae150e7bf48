"""The real app for operations tests: ``open_runtime`` + ``build_app`` as ``nexus dev``
wires them (``bot/serving.py``), served on 127.0.0.1, with the in-memory test platform.

Real Redis (a unique key prefix and queue per test), SQLite in the test's directory,
an in-process ARQ worker running the production job functions, Chromium for charts
when it is installed, and a real sandbox (an AI key is configured, so the worker starts
one). Nothing of Nexus is mocked.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.express as px
import pytest
import structlog
from aiohttp import ClientSession, web
from redis.asyncio import Redis

from adapters.testing import DictFetcher, InMemoryAdapter, RecordingSender, memory_io
from bot.platforms import StaticPlugin
from bot.runtime import Runtime, open_runtime
from bot.serving import runtime_app
from core.charts.renderer import ChartRenderer
from core.events import FileRef
from core.logging import configure_logging
from core.ports import Acceptance
from core.settings import SandboxLimits, Settings

MARKER = "ZQX-MARKER-7731"
"""A cell value in the uploaded file: it must never appear in a log line."""
QUESTION = "average tip by day"
SECRET = "sk-test-do-not-log-4f1c9e"


def tips_with_marker() -> bytes:
    frame = px.data.tips()
    frame["note"] = MARKER
    return frame.to_csv(index=False).encode()


def charts_available() -> bool:
    return ChartRenderer().available


@dataclass
class App:
    runtime: Runtime
    url: str
    adapter: InMemoryAdapter
    sender: RecordingSender
    fetcher: DictFetcher

    async def ask_with_file(self, question: str, data: bytes, **inbound: Any) -> Acceptance:
        file_id = f"F{len(self.fetcher.files) + 1}"
        self.fetcher.files[file_id] = data
        ref = FileRef(id=file_id, name="tips.csv", size=len(data))
        from adapters.testing import make_inbound

        return await self.adapter.deliver(
            make_inbound(f"<@UBOT> {question}", workspace="W", files=[ref], **inbound)
        )

    async def get(self, path: str) -> tuple[int, str]:
        async with ClientSession() as session, session.get(self.url + path) as response:
            return response.status, await response.text()


@contextlib.contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """Production logging into a buffer; the previous configuration is restored after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stderr", buffer)
        configure_logging("INFO", "json")
    try:
        yield buffer
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


@contextlib.asynccontextmanager
async def running_app(
    *,
    redis_url: str,
    prefix: str,
    data_dir: Path,
    charts: bool,
    preload: tuple[str, ...] = ("pandas",),
) -> AsyncIterator[App]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=redis_url,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'nexus.db'}",
        data_dir=data_dir,
        redis_prefix=prefix,
        queue_name=f"{prefix}:queue",
        worker_poll_delay_seconds=0.05,
        job_timeout_seconds=60,
        openai_api_key=SECRET,
        # The questions here are answered by the rule planner, never by generated code:
        # the sandbox starts (and logs) but preloads only pandas by default, not the
        # whole default stack (about 10 s of scipy/sklearn/statsmodels imports that the
        # first job would wait for).
        sandbox_limits=SandboxLimits(preload=list(preload), concurrency=1),
    )
    io, sender, fetcher = memory_io()
    plugin = StaticPlugin("test", platform_io=io)
    runtime = await open_runtime(settings, plugins=[plugin], mode="dev", charts=charts)
    runner: web.AppRunner | None = None
    try:
        app = runtime_app(runtime, [plugin])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield App(
            runtime,
            f"http://127.0.0.1:{port}",
            InMemoryAdapter(runtime.manager, sender),
            sender,
            fetcher,
        )
    finally:
        if runner is not None:
            await runner.cleanup()
        await runtime.close()


@contextlib.asynccontextmanager
async def fresh_app(redis_url: str, data_dir: Path) -> AsyncIterator[App]:
    """:func:`running_app` under a key prefix of its own, deleted afterwards: for the
    module-scoped fixtures, which cannot use the per-test ``redis_prefix``."""
    prefix = f"nexus-test:{uuid.uuid4().hex[:12]}"
    try:
        async with running_app(
            redis_url=redis_url, prefix=prefix, data_dir=data_dir, charts=charts_available()
        ) as app:
            yield app
    finally:
        redis = Redis.from_url(redis_url)
        for pattern in (f"{prefix}*", f"arq:*{prefix}:*"):  # ARQ's keys carry the job id
            async for key in redis.scan_iter(match=pattern, count=1000):
                await redis.delete(key)
        await redis.aclose()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """A private redis-server on ``port`` (never the machine's shared one)."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
