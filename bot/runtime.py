"""The composition root: everything ``nexus serve`` and ``nexus dev`` need, from Settings.

- ``serve``: Redis (``REDIS_URL``, required) for dedupe, quotas, reply markers and
  the ARQ queue; jobs run in separate ``nexus worker`` processes.
- ``dev``: the same, plus an in-process ARQ worker, when ``REDIS_URL`` is set; with no
  Redis at all, fakeredis (with Lua) holds dedupe/quotas/markers and an
  :class:`~core.queue.InProcessQueue` runs the same job functions as asyncio tasks
  (fakeredis cannot host an ARQ worker, facts.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from redis.asyncio import Redis

from bot.admin_api import admin_api_routes
from bot.admin_api.wiring import admin_deps
from bot.milvus_health import embedded_line, milvus_check, server_address
from bot.platforms import PlatformPlugin, build_registry
from bot.web import RouteInstaller
from core.blobs import BlobStore
from core.conversation import ConversationManager
from core.dedupe import Deduplicator
from core.delivery import ReplyLedger
from core.errors import ConfigurationError
from core.governance.encryption import encryption_status, secret_box
from core.logging import get_logger
from core.member_cache import MemberCache, bump_members_version
from core.metrics import NexusMetrics
from core.ports import PlatformRegistry
from core.queue import ArqQueue, InProcessQueue, JobQueue, arq_redis
from core.quotas import Quotas
from core.running_jobs import RunningJobs
from core.settings import Settings
from core.storage.db import Database
from workers.context import WorkerContext, open_worker_context
from workers.jobs import JOB_FUNCTIONS
from workers.settings import run_worker, worker_settings

log = get_logger("runtime")

Mode = Literal["serve", "dev"]


@dataclass
class WorkerSlot:
    """Where the in-process worker's context appears once it has started."""

    context: WorkerContext | None = None

    def attach(self, context: WorkerContext | None) -> None:
        self.context = context


@dataclass
class Runtime:
    settings: Settings
    database: Database
    redis: Redis
    queue: JobQueue
    manager: ConversationManager
    registry: PlatformRegistry
    metrics: NexusMetrics
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    mode: Mode = "serve"
    worker: WorkerSlot = field(default_factory=WorkerSlot)
    """This process's worker (``dev``); ``serve`` leaves the work to ``nexus worker``."""
    governance_routes: list[RouteInstaller] = field(default_factory=list)
    """The admin API (``/admin/api/v1``), mounted by ``bot.serving``."""
    encryption: str = ""
    """The ``/readyz`` line saying whether data is encrypted at rest."""

    def checks(self) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
        """Readiness checks: the database and Redis answer (a failure means 503)."""
        return [("database", self.database.ping), ("redis", self.queue.ping)]

    def advisories(self) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
        """Reported on ``/readyz`` without making it fail: a Milvus server outage
        stops document answers, not the acking of events."""
        check = milvus_check(self.settings.resolved_milvus_uri)
        return [] if check is None else [check]

    def status_lines(self) -> list[str]:
        """Informational ``/readyz`` lines (never 503): the sandbox, the renderer, an
        embedded Milvus file, and encryption at rest."""
        uri = self.settings.resolved_milvus_uri
        milvus = [] if server_address(uri) else [embedded_line(uri)]
        milvus.append(self.encryption)
        if self.worker.context is not None:
            return [*self.worker.context.status_lines(), *milvus]
        if self.mode == "serve":
            parts = ["sandbox: in the `nexus worker` processes", "renderer: in the workers"]
            return [*parts, *milvus]
        return ["sandbox: worker starting", "renderer: worker starting", *milvus]

    async def close(self) -> None:
        for close in reversed(self.closers):
            try:
                await close()
            except Exception as exc:  # keep closing the rest
                log.warning("close_failed", error=repr(exc))


def _fake_redis() -> Redis:
    import fakeredis  # dev only: no Redis server installed

    redis: Redis = fakeredis.FakeAsyncRedis()
    return redis


async def open_runtime(
    settings: Settings,
    *,
    plugins: Sequence[PlatformPlugin],
    mode: Mode,
    charts: bool = True,
) -> Runtime:
    if mode == "serve" and not settings.redis_url:
        raise ConfigurationError("REDIS_URL is required for `nexus serve`; try `nexus dev`.")
    metrics = NexusMetrics()
    closers: list[Callable[[], Awaitable[None]]] = []
    database = Database(settings.resolved_database_url)
    closers.append(database.dispose)
    await database.migrate()
    registry = build_registry(plugins)
    prefix = settings.redis_prefix
    worker = WorkerSlot()  # filled by the in-process worker, if any
    if settings.redis_url:
        shared = arq_redis(settings.redis_url, queue_name=settings.queue_name)
        redis: Redis = shared
        queue: JobQueue = ArqQueue(shared, queue_name=settings.queue_name)
        closers.append(queue.close)
        if mode == "dev":
            options = worker_settings(
                settings,
                registry=registry,
                charts=charts,
                metrics=metrics,
                on_context=worker.attach,
            )
            task = asyncio.create_task(run_worker(options, handle_signals=False))
            closers.append(lambda: _cancel(task))
    else:
        redis = _fake_redis()
        local = InProcessQueue(
            JOB_FUNCTIONS,
            job_timeout=settings.job_timeout_seconds,
            max_tries=settings.job_max_tries,
            concurrency=settings.worker_max_jobs,
        )
        context = await open_worker_context(
            settings, registry=registry, redis=redis, charts=charts, metrics=metrics
        )
        local.ctx["worker"] = context
        worker.attach(context)
        closers += [context.close, local.close]
        queue = local
    box = secret_box(settings)
    encryption = encryption_status(box)
    log.info("encryption", status=encryption)
    blobs = BlobStore.for_data_dir(settings.data_dir, box=box)

    async def members_changed(workspace: str) -> None:
        await bump_members_version(redis, prefix, workspace)

    # The admin API deletes document chunks where this process holds the library (the
    # in-process worker of `nexus dev`); elsewhere the worker purges them lazily
    # (search ignores chunks whose catalogue row is gone).
    index = worker.context.documents if worker.context is not None else None
    admin = admin_deps(
        settings, database=database, blobs=blobs, index=index, members_changed=members_changed
    )
    manager = ConversationManager(
        database=database,
        dedupe=Deduplicator(redis, timedelta(seconds=settings.dedupe_ttl_seconds), prefix=prefix),
        quotas=Quotas(redis, prefix=prefix),
        queue=queue,
        ledger=ReplyLedger(
            redis, prefix=prefix, ttl=timedelta(seconds=settings.reply_marker_ttl_seconds)
        ),
        running=RunningJobs(redis, prefix=prefix, ttl=settings.running_job_ttl),
        members=MemberCache(redis, prefix=prefix, ttl=settings.member_cache_seconds),
        blobs=blobs,
        bootstrap_owners=settings.bootstrap_owner_ids,
        prefix=prefix,
        metrics=metrics,
    )
    return Runtime(
        settings,
        database,
        redis,
        queue,
        manager,
        registry,
        metrics,
        closers,
        mode,
        worker,
        governance_routes=[admin_api_routes(admin)],
        encryption=encryption,
    )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
