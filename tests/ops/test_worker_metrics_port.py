"""Each ``nexus worker`` serves its own ``/metrics`` (and ``/healthz``) on a port."""

from __future__ import annotations

import aiohttp
from ops_support import free_port

from bot.serving import start_worker_metrics
from core.metrics import NexusMetrics
from core.settings import Settings


async def test_worker_metrics_are_served_on_their_port() -> None:
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        worker_metrics_port=port,
        worker_metrics_host="127.0.0.1",
    )
    metrics = NexusMetrics()
    metrics.jobs.labels("answer_question", "succeeded").inc(3)
    runner = await start_worker_metrics(settings, metrics.registry)
    assert runner is not None
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                text = await response.text()
                assert response.status == 200
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
    finally:
        await runner.cleanup()
    line = 'nexus_jobs_total{kind="answer_question",status="succeeded"} 3.0'
    assert line in text.splitlines()


async def test_port_zero_turns_it_off() -> None:
    settings = Settings(_env_file=None, worker_metrics_port=0)  # type: ignore[call-arg]
    assert await start_worker_metrics(settings, NexusMetrics().registry) is None
