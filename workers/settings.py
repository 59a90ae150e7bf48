"""ARQ worker settings, built from ``Settings`` by a function (no module globals).

``nexus worker`` runs ``arq``'s Worker with :func:`worker_settings`; tests run the same
settings in-process or in a subprocess. The choices, and why:

- JSON serializer/deserializer: pickle would let anyone who can write to Redis run
  code in the workers (facts.md).
- explicit ``job_timeout`` and ``max_tries``: a SIGKILLed worker's job runs again after
  ``job_timeout + 10 s``; transient failures retry via ``Retry`` with backoff.
- ``allow_abort_jobs``: the ``stop`` chat command aborts the running job.
- a short ``health_check_interval``: ``arq --check`` and operators see a dead worker fast.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import create_worker, func

from core.errors import ConfigurationError
from core.governance.retention import build_sweeper
from core.metrics import NexusMetrics
from core.ports import PlatformRegistry
from core.queue import deserialize, serialize
from core.settings import Settings
from workers.context import WorkerContext, open_worker_context
from workers.jobs import answer_question, ingest_upload


def worker_settings(
    settings: Settings,
    *,
    registry: PlatformRegistry,
    charts: bool = True,
    metrics: NexusMetrics | None = None,
    on_context: Callable[[WorkerContext | None], None] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker`` (``create_worker`` accepts the dict).

    ``on_context`` sees the worker's context once it is built (and ``None`` once it is
    closed): ``nexus dev`` reports the worker's sandbox and renderer on ``/readyz``."""
    if not settings.redis_url:
        raise ConfigurationError(
            "REDIS_URL is required for `nexus worker`; `nexus dev` runs without Redis."
        )

    async def on_startup(ctx: dict[str, Any]) -> None:
        # ctx["redis"] is ARQ's own connection: quotas and reply markers share it.
        ctx["worker"] = await open_worker_context(
            settings, registry=registry, redis=ctx["redis"], charts=charts, metrics=metrics
        )
        if on_context is not None:
            on_context(ctx["worker"])

    async def sweep_retention(ctx: dict[str, Any]) -> dict[str, Any]:
        """Hourly: delete what each workspace's retention no longer keeps (audited)."""
        worker: WorkerContext = ctx["worker"]
        sweeper = build_sweeper(settings, worker.database, index=worker.documents)
        report = await sweeper.sweep()
        return {"workspaces": len(report)}

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        worker = ctx.get("worker")
        if worker is not None:
            if on_context is not None:
                on_context(None)
            await worker.close()

    return {
        "functions": [
            func(answer_question, name="answer_question"),
            func(ingest_upload, name="ingest_upload"),
        ],
        # unique: one sweep at a time across all workers sharing the queue.
        "cron_jobs": [cron(sweep_retention, minute=17, unique=True, run_at_startup=False)],
        "queue_name": settings.queue_name,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "job_serializer": serialize,
        "job_deserializer": deserialize,
        "job_timeout": settings.job_timeout_seconds,
        "max_tries": settings.job_max_tries,
        "allow_abort_jobs": True,
        "health_check_interval": settings.worker_health_check_seconds,
        "max_jobs": settings.worker_max_jobs,
        "poll_delay": settings.worker_poll_delay_seconds,
        "keep_result": settings.job_keep_result_seconds,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
    }


async def run_worker(options: dict[str, Any], *, handle_signals: bool = True) -> None:
    """Run an ARQ worker on the current event loop until it is cancelled or signalled."""
    worker = create_worker(options, handle_signals=handle_signals)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        pass  # SIGINT/SIGTERM: ARQ cancelled its main task; close below
    finally:
        # close() waits for the jobs it just cancelled and re-raises their cancellation;
        # ARQ puts those jobs back for another worker, so there is nothing to handle.
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
