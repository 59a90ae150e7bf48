"""`nexus dev` needs no Redis server: the process serves health checks, and the
in-process queue runs the same job functions end to end (fakeredis for dedupe/quotas)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from adapters.testing import make_inbound, memory_io
from bot.platforms import StaticPlugin
from bot.runtime import open_runtime
from bot.web import build_app
from core.events import FileRef
from core.queue import InProcessQueue
from core.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_nexus_dev_starts_without_redis(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(NEXUS_PORT=str(port), NEXUS_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    log = tmp_path / "dev.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "dev", cwd=tmp_path, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        health = f"http://127.0.0.1:{port}/healthz"
        async with asyncio.timeout(60):
            while True:  # the process is starting: retry until it answers
                try:
                    status, body = await _get(health)
                    break
                except aiohttp.ClientConnectionError:
                    assert process.returncode is None, log.read_text()
                    await asyncio.sleep(0.1)
        assert (status, body) == (200, "ok\n")
        status, ready = await _get(f"http://127.0.0.1:{port}/readyz")
        assert status == 200, ready
        assert ready.splitlines()[:2] == ["database: ok", "redis: ok"]
        assert "slack: " in ready  # one line per platform, configured or not
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0, log.read_text()


async def test_dev_runtime_answers_through_the_in_process_queue(
    tmp_path: Path, tips_csv: bytes
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    assert settings.redis_url is None
    io, sender, _ = memory_io({"F1": tips_csv})
    plugin = StaticPlugin("test", io)
    runtime = await open_runtime(settings, plugins=[plugin], mode="dev", charts=False)
    try:
        assert isinstance(runtime.queue, InProcessQueue)
        app = build_app(
            intake=runtime.manager,
            registry=runtime.registry,
            metrics=runtime.metrics.registry,
            checks=runtime.checks(),
            platform_status=[plugin.status],
        )
        ref = FileRef(id="F1", name="tips.csv", size=len(tips_csv))
        inbound = make_inbound("how many rows are there", files=[ref])
        accepted = await runtime.manager.accept(inbound)
        assert (await runtime.manager.accept(inbound)).kind == "duplicate"
        await runtime.queue.join()
        (reply,) = sender.for_key(accepted.job_id or "")
        assert reply.text.startswith("Number of rows: 244")
        async with TestClient(TestServer(app)) as client:
            ready = await client.get("/readyz")
            assert await ready.text() == "database: ok\nredis: ok\ntest: configured\n"
            metrics = await (await client.get("/metrics")).text()
        assert 'nexus_events_total{outcome="enqueued",platform="test"} 1.0' in metrics
        assert 'nexus_jobs_total{kind="answer_question",status="succeeded"} 1.0' in metrics
    finally:
        await runtime.close()
