"""The objects a worker process shares between jobs, built once from ``Settings``.

Used by the ARQ worker's ``on_startup`` (``workers/settings.py``) and by ``nexus dev``'s
in-process queue, so both run jobs with identical code and wiring.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from core.answering import Answerer
from core.blobs import BlobStore
from core.charts.renderer import ChartRenderer
from core.delivery import ReplyLedger
from core.governance.encryption import secret_box
from core.governance.redacting_provider import DatabaseGovernance, redacting
from core.governance.redaction import Redactor
from core.job_records import JobRecords
from core.llm.factory import build_router
from core.llm.router import LLMRouter
from core.llm_accounting import LedgerUsageRecorder, QuotaBudgetGuard
from core.logging import get_logger
from core.metrics import NexusMetrics
from core.metrics_collectors import BreakerStates
from core.pipeline import Pipeline
from core.ports import PlatformRegistry
from core.quotas import Quotas
from core.retrieval.library import DocumentLibrary, open_documents
from core.running_jobs import RunningJobs
from core.sandbox.factory import create_sandbox
from core.sandbox.metered import MeteredSandbox
from core.sandbox.protocol import Sandbox
from core.settings import IngestLimits, Settings
from core.storage.db import Database

log = get_logger("workers")

DEADLINE_MARGIN_SECONDS = 5.0
"""The job's own deadline ends this much before ARQ's ``job_timeout``, so a slow job
still posts "that took too long" instead of being cancelled silently."""

NO_SANDBOX = "off (no AI provider configured, so no generated code)"


@dataclass
class WorkerContext:
    pipeline: Pipeline
    database: Database
    renderer: ChartRenderer | None
    router: LLMRouter | None = None
    sandbox: Sandbox | None = None
    sandbox_note: str = NO_SANDBOX
    """The ``/readyz`` line when there is no running sandbox: why not."""
    unregister: Callable[[], None] | None = None
    """Takes this context's scrape-time collectors off the metrics registry."""
    documents: DocumentLibrary | None = None

    def status_lines(self) -> list[str]:
        """``/readyz`` lines for the optional parts; degraded is not unready."""
        lines = [f"sandbox: {self.sandbox_note}"]
        if self.sandbox is not None:
            block: dict[str, Any] = self.sandbox.report().readyz()
            missing = "; ".join(str(m).split(":", 1)[0] for m in block["missing"])
            level = "fully isolated" if block["isolated"] else f"running WITHOUT {missing}"
            lines = [f"sandbox: {block['backend']}, {level}"]
        if self.renderer is None:
            lines.append("renderer: off (charts disabled)")
        elif self.renderer.available:
            lines.append("renderer: available")
        else:
            lines.append(f"renderer: unavailable ({self.renderer.unavailable_reason})")
        return lines

    async def close(self) -> None:
        if self.unregister is not None:
            self.unregister()
        for part in (self.sandbox, self.renderer, self.documents):
            if part is not None:
                try:
                    await part.close()
                except Exception as exc:  # keep closing the rest
                    log.warning("close_failed", part=type(part).__name__, error=repr(exc))
        if self.router is not None:
            await self.router.aclose()
        await self.database.dispose()


def _has_llm_key(settings: Settings) -> bool:
    keys = (settings.openai_api_key, settings.anthropic_api_key, settings.groq_api_key)
    return any(key is not None for key in keys)


async def _start_sandbox(settings: Settings, metrics: NexusMetrics) -> tuple[Sandbox | None, str]:
    """The started sandbox, or None and why (a sandbox that fails to start disables
    generated code; spec answers still work, and ``/readyz`` says so)."""
    # A misconfiguration (e2b without key) raises.
    sandbox = MeteredSandbox(create_sandbox(settings), metrics.sandbox_runs)
    try:
        await sandbox.start()  # 5-25 s: paid at startup, not by the first question
    except Exception as exc:
        log.error("sandbox_start_failed", backend=sandbox.name, error=repr(exc))
        await sandbox.close()
        return None, f"{sandbox.name} failed to start ({type(exc).__name__}); no generated code"
    log.info("sandbox_started", summary=sandbox.report().summary_line())
    return sandbox, ""


async def _start_processes(
    settings: Settings,
    database: Database,
    metrics: NexusMetrics,
    renderer: ChartRenderer | None,
    *,
    with_sandbox: bool,
) -> tuple[Sandbox | None, str, DocumentLibrary | None]:
    """Start Chromium (2-4 s cold), the sandbox's fork server and milvus-lite, one
    after the other: launched together, Chromium sometimes exited at once in the load
    bench ("the browser seemed to close immediately").

    If one fails, or the worker is stopped meanwhile (Ctrl-C, SIGTERM), those already
    up are closed before the error goes on: a Chromium left running keeps non-daemon
    threads in this process, which then never exits."""
    started: list[Sandbox | DocumentLibrary | ChartRenderer] = []
    try:
        if renderer is not None and renderer.available:
            started.append(renderer)
            await renderer.start()  # a cold browser: paid before the first job
        sandbox, note = (
            await _start_sandbox(settings, metrics) if with_sandbox else (None, NO_SANDBOX)
        )
        if sandbox is not None:
            started.append(sandbox)
        documents = await open_documents(settings, database)  # milvus-lite or a server
    except BaseException:
        for part in reversed(started):
            try:
                await asyncio.shield(part.close())
            except Exception as exc:  # the start-up failure is the one to report
                log.warning("close_failed", part=type(part).__name__, error=repr(exc))
        raise
    return sandbox, note, documents


async def open_worker_context(
    settings: Settings,
    *,
    registry: PlatformRegistry,
    redis: Redis,
    charts: bool = True,
    metrics: NexusMetrics | None = None,
) -> WorkerContext:
    """Migrate the database, warm one chart renderer, and build the pipeline.

    With an LLM key configured, also the router (its spend goes to the usage ledger
    and the workspace's token/cost quotas) and a started sandbox for generated code;
    without one, neither: the deterministic planner answers alone, as before.
    """
    metrics = metrics or NexusMetrics()
    database = Database(settings.resolved_database_url)
    await database.migrate()
    renderer: ChartRenderer | None = None
    if charts:
        renderer = ChartRenderer(
            timeout=settings.chart_timeout_seconds,
            on_render=metrics.chart_render_seconds.observe,
        )
        if not renderer.available:
            log.warning("charts_unavailable", reason=renderer.unavailable_reason)
    blobs = BlobStore.for_data_dir(settings.data_dir, box=secret_box(settings))
    quotas = Quotas(redis, prefix=settings.redis_prefix)
    ledger = ReplyLedger(
        redis,
        prefix=settings.redis_prefix,
        ttl=timedelta(seconds=settings.reply_marker_ttl_seconds),
    )
    limits = IngestLimits()
    router: LLMRouter | None = None
    unregister: Callable[[], None] | None = None
    if _has_llm_key(settings):  # no key, no router: the planner answers alone
        router = build_router(
            settings,
            redis,
            usage=LedgerUsageRecorder(database=database, quotas=quotas),
            budget=QuotaBudgetGuard(database=database, quotas=quotas),
            cache_prefix=f"{settings.redis_prefix}:llm",
            observer=metrics,
            # PII redaction per workspace policy, on every call that leaves the process.
            wrap_provider=redacting(
                DatabaseGovernance(database),
                Redactor(phone_region=settings.redaction_phone_region),
            ),
        )
        breakers = BreakerStates(router)
        metrics.registry.register(breakers)
        unregister = functools.partial(metrics.registry.unregister, breakers)
    try:
        sandbox, sandbox_note, documents = await _start_processes(
            settings, database, metrics, renderer, with_sandbox=router is not None
        )
    except BaseException:
        if unregister is not None:
            unregister()
        if router is not None:
            await router.aclose()
        await database.dispose()
        raise
    answerer = Answerer(
        database=database,
        blobs=blobs,
        quotas=quotas,
        renderer=renderer,
        limits=limits,
        router=router,
        sandbox=sandbox,
        documents=documents,
    )
    timeout = settings.job_timeout_seconds
    deadline = max(timeout - DEADLINE_MARGIN_SECONDS, timeout * 0.8)
    running = RunningJobs(redis, prefix=settings.redis_prefix, ttl=settings.running_job_ttl)
    pipeline = Pipeline(
        records=JobRecords(database=database, quotas=quotas, running=running),
        ledger=ledger,
        registry=registry,
        answerer=answerer,
        max_tries=settings.job_max_tries,
        retry_backoff=settings.job_retry_backoff_seconds,
        deadline=deadline,
        metrics=metrics,
    )
    return WorkerContext(
        pipeline=pipeline,
        database=database,
        renderer=renderer,
        router=router,
        sandbox=sandbox,
        sandbox_note=sandbox_note,
        unregister=unregister,
        documents=documents,
    )
