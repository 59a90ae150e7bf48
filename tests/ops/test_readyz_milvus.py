"""The Milvus line of ``/readyz``: a server is probed and reported, but its outage does
not make the web process unready (it still acks events; document answers wait), and an
embedded milvus-lite file is only named (the worker is the one process that opens it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from ops_support import free_port

from bot.platforms import StaticPlugin
from bot.runtime import open_runtime
from bot.serving import runtime_app
from core.settings import Settings

Readyz = Callable[[str], Awaitable[tuple[int, list[str]]]]


@pytest.fixture
async def readyz(redis_url: str, tmp_path: Path) -> AsyncIterator[Readyz]:
    runners: list[web.AppRunner] = []
    closers: list[Callable[[], Awaitable[None]]] = []

    async def get(milvus_uri: str) -> tuple[int, list[str]]:
        prefix = f"nexus-test:{uuid.uuid4().hex[:12]}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            redis_url=redis_url,
            redis_prefix=prefix,
            queue_name=f"{prefix}:queue",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
            data_dir=tmp_path / "data",
            milvus_uri=milvus_uri,
        )
        runtime = await open_runtime(settings, plugins=[StaticPlugin("test")], mode="serve")
        closers.append(runtime.close)
        runner = web.AppRunner(runtime_app(runtime, [StaticPlugin("test")]))
        runners.append(runner)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/readyz"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            return response.status, (await response.text()).splitlines()

    yield get
    for runner in runners:
        await runner.cleanup()
    for close in closers:
        await close()


async def test_a_reachable_milvus_server_reads_ok(readyz: Readyz) -> None:
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        status, lines = await readyz(f"http://127.0.0.1:{port}")
    finally:
        server.close()
        await server.wait_closed()
    assert status == 200
    assert "milvus: ok" in lines


async def test_an_unreachable_milvus_server_is_reported_without_failing(readyz: Readyz) -> None:
    status, lines = await readyz(f"http://127.0.0.1:{free_port()}")
    assert status == 200  # the web process still acks; the line tells the operator
    (line,) = [line for line in lines if line.startswith("milvus:")]
    assert line.startswith("milvus: unreachable"), line


async def test_an_embedded_file_is_named_not_opened(readyz: Readyz, tmp_path: Path) -> None:
    path = tmp_path / "data" / "milvus.db"
    status, lines = await readyz(str(path))
    assert status == 200
    assert f"milvus: embedded milvus-lite file {path} (one process: the worker)" in lines
    assert not path.exists()
