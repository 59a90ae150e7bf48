"""The whole conversation path in one test process: manager → ARQ → worker → sender.

Real Redis, a real database (SQLite or PostgreSQL), a real ARQ ``Worker`` running the
production worker options (``workers.settings.worker_settings``) on the test's event
loop, and the in-memory test platform (``adapters.testing``). Only the clock of the
quotas is injected, so a test can move to tomorrow.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from arq.worker import Worker, create_worker
from redis.asyncio import Redis

from adapters.testing import DictFetcher, InMemoryAdapter, RecordingSender, make_inbound, memory_io
from core.answering import Answerer
from core.blobs import BlobStore
from core.charts.renderer import ChartRenderer
from core.conversation import ConversationManager
from core.dedupe import Deduplicator
from core.delivery import ReplyLedger
from core.events import FileRef, Inbound
from core.job_records import JobRecords
from core.member_cache import MemberCache
from core.pipeline import Pipeline
from core.ports import Acceptance, PlatformRegistry
from core.queue import ArqQueue, arq_redis
from core.quotas import QuotaPolicy, Quotas
from core.running_jobs import RunningJobs
from core.settings import IngestLimits, Settings
from core.storage.db import Database
from core.storage.repositories import jobs
from core.storage.repositories.jobs import FINISHED
from workers.context import WorkerContext
from workers.settings import worker_settings

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
UNLIMITED = QuotaPolicy(analyses_per_day=0, requests_per_user_per_minute=0)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 10, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def wait_until(
    condition: Callable[[], Awaitable[bool]], within: float = 10.0, step: float = 0.02
) -> None:
    """Re-check ``condition`` until it holds; TimeoutError after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            if await condition():
                return
            await asyncio.sleep(step)


@dataclass
class Stack:
    settings: Settings
    database: Database
    redis: Redis
    manager: ConversationManager
    sender: RecordingSender
    fetcher: DictFetcher
    adapter: InMemoryAdapter
    quotas: Quotas
    ledger: ReplyLedger
    context: WorkerContext
    clock: Clock
    registry: PlatformRegistry
    worker: Worker | None = None
    _worker_task: asyncio.Task[None] | None = None

    async def start_worker(self, **overrides: Any) -> Worker:
        options = worker_settings(self.settings, registry=self.registry, charts=False)
        assert self.settings.redis_url

        async def on_startup(ctx: dict[str, Any]) -> None:
            ctx["worker"] = self.context  # shares the injected clock of the quotas

        options.update(
            on_startup=on_startup,
            on_shutdown=None,
            redis_settings=None,
            redis_pool=arq_redis(self.settings.redis_url, queue_name=self.settings.queue_name),
            handle_signals=False,
            **overrides,
        )
        self.worker = create_worker(options)
        self._worker_task = asyncio.create_task(self.worker.async_run())
        return self.worker

    async def stop_worker(self) -> None:
        if self.worker is not None and self._worker_task is not None:
            # ARQ's close() re-raises the cancellation of jobs still running.
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker.close()
            await asyncio.gather(self._worker_task, return_exceptions=True)
            self.worker = self._worker_task = None

    def inbound(self, text: str = "", **kwargs: Any) -> Inbound:
        kwargs.setdefault("workspace", "W")
        return make_inbound(text, **kwargs)

    async def say(self, text: str, **kwargs: Any) -> Acceptance:
        return await self.adapter.deliver(self.inbound(text, **kwargs))

    async def upload(
        self, name: str, data: bytes, text: str = "", file_id: str | None = None, **kwargs: Any
    ) -> Acceptance:
        file_id = file_id or f"F-{name}-{len(self.fetcher.files)}"
        self.fetcher.files[file_id] = data
        ref = FileRef(id=file_id, name=name, size=len(data))
        return await self.adapter.deliver(self.inbound(text, files=[ref], **kwargs))

    async def answer(self, acceptance: Acceptance, within: float = 15.0) -> str:
        """The text of the reply posted for an enqueued job."""
        assert acceptance.kind == "enqueued", acceptance
        key = acceptance.job_id or ""
        await self.sender.wait_for(lambda: bool(self.sender.for_key(key)), within)
        (reply,) = self.sender.for_key(key)
        return reply.text

    async def finished(self, job_id: str | None, workspace: str = "test:W") -> str:
        """Wait until the job's row is final (the reply is posted just before that)."""
        assert job_id is not None

        async def done() -> bool:
            return await self.job_status(job_id, workspace) in FINISHED

        await wait_until(done)
        status = await self.job_status(job_id, workspace)
        assert status is not None
        return status

    async def job_status(self, job_id: str, workspace: str) -> str | None:
        async with self.database.session() as session:
            row = await jobs.get(session, workspace, job_id)
        return None if row is None else row.status

    async def close(self) -> None:
        await self.stop_worker()
        await self.database.dispose()
        # ARQ's own keys (arq:job:<job id>, arq:result:...) are outside the test's
        # prefix; the job ids carry it, so they can be found and removed.
        prefix = self.settings.redis_prefix
        async for key in self.redis.scan_iter(match=f"arq:*{prefix}:*", count=1000):
            await self.redis.delete(key)


async def open_stack(
    *,
    database_url: str,
    redis_client: Redis,
    redis_url: str,
    prefix: str,
    data_dir: Path,
    policy: QuotaPolicy = UNLIMITED,
    queue_url: str | None = None,
    owners: Sequence[str] = (),
    renderer: ChartRenderer | None = None,
    **settings: Any,
) -> Stack:
    """Build the stack; the queue may point elsewhere (``queue_url``) than dedupe/quotas."""
    settings.setdefault("job_timeout_seconds", 20.0)
    settings.setdefault("job_max_tries", 3)
    settings.setdefault("worker_max_jobs", 10)
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=redis_url,
        database_url=database_url,
        data_dir=data_dir,
        redis_prefix=prefix,
        queue_name=f"{prefix}:queue",
        job_retry_backoff_seconds=0.05,
        job_keep_result_seconds=60,
        worker_poll_delay_seconds=0.05,
        **settings,
    )
    database = Database(database_url)
    await database.migrate()
    clock = Clock()
    io, sender, fetcher = memory_io()
    registry = PlatformRegistry()
    registry.register("test", io)
    quotas = Quotas(redis_client, policy=policy, prefix=prefix, clock=clock)
    ledger = ReplyLedger(redis_client, prefix=prefix)
    blobs = BlobStore.for_data_dir(data_dir)
    queue = ArqQueue(
        arq_redis(queue_url or redis_url, queue_name=config.queue_name),
        queue_name=config.queue_name,
    )
    running = RunningJobs(redis_client, prefix=prefix, ttl=config.running_job_ttl)
    manager = ConversationManager(
        database=database,
        dedupe=Deduplicator(redis_client, prefix=prefix),
        quotas=quotas,
        queue=queue,
        ledger=ledger,
        running=running,
        members=MemberCache(redis_client, prefix=prefix),
        blobs=blobs,
        bootstrap_owners=owners,
        prefix=prefix,
    )
    answerer = Answerer(
        database=database, blobs=blobs, quotas=quotas, renderer=renderer, limits=IngestLimits()
    )
    pipeline = Pipeline(
        records=JobRecords(database=database, quotas=quotas, running=running),
        ledger=ledger,
        registry=registry,
        answerer=answerer,
        max_tries=config.job_max_tries,
        retry_backoff=config.job_retry_backoff_seconds,
        deadline=config.job_timeout_seconds - 1,
    )
    context = WorkerContext(pipeline=pipeline, database=database, renderer=None)
    return Stack(
        settings=config,
        database=database,
        redis=redis_client,
        manager=manager,
        sender=sender,
        fetcher=fetcher,
        adapter=InMemoryAdapter(manager, sender),
        quotas=quotas,
        ledger=ledger,
        context=context,
        clock=clock,
        registry=registry,
    )


StackFactory = Callable[..., Awaitable[Stack]]
"""The ``make_stack`` fixture: ``await make_stack(policy=..., owners=...)``."""
