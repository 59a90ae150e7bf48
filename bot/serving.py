"""Run the web app (``nexus serve`` / ``nexus dev``) or the worker until a signal.

Startup logs one line per platform (configured or why not), as DESIGN.md asks.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from aiohttp import web
from prometheus_client import CollectorRegistry

from bot.ingress_metrics import ingress_middleware
from bot.platforms import PlatformPlugin, build_registry
from bot.runtime import Mode, Runtime, open_runtime
from bot.web import RouteInstaller, build_app, metrics_view
from core.gc_tuning import freeze_heap
from core.logging import get_logger
from core.metrics import NexusMetrics
from core.metrics_collectors import QueueDepth
from core.ports import Intake
from core.settings import Settings
from workers.settings import run_worker, worker_settings

log = get_logger("serve")


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _installer(plugin: PlatformPlugin, intake: Intake) -> RouteInstaller:
    def install(app: web.Application) -> None:
        plugin.install_routes(app, intake)

    return install


def runtime_app(runtime: Runtime, plugins: Sequence[PlatformPlugin]) -> web.Application:
    """The one aiohttp app of ``nexus serve``/``dev`` for an open runtime: health,
    readiness, metrics (with ack timing at the door) and the configured adapters."""
    registry = runtime.metrics.registry
    return build_app(
        intake=runtime.manager,
        registry=runtime.registry,
        metrics=registry,
        checks=runtime.checks(),
        advisories=runtime.advisories(),
        status=runtime.status_lines,
        before_scrape=[QueueDepth(runtime.queue, runtime.settings.queue_name, registry).refresh],
        middlewares=[ingress_middleware(runtime.metrics)],
        platform_status=[p.status for p in plugins],
        routes=[
            *runtime.governance_routes,
            *(_installer(p, runtime.manager) for p in plugins if p.configured),
        ],
        metrics_token=(
            runtime.settings.metrics_token.get_secret_value()
            if runtime.settings.metrics_token
            else None
        ),
    )


async def serve(
    settings: Settings,
    *,
    plugins: Sequence[PlatformPlugin],
    mode: Mode,
    host: str,
    port: int,
    charts: bool = True,
) -> None:
    """Serve HTTP until SIGINT/SIGTERM, then close adapters, the queue and the database."""
    stop = _stop_event()
    runtime = await open_runtime(settings, plugins=plugins, mode=mode, charts=charts)
    runner: web.AppRunner | None = None
    started: list[PlatformPlugin] = []
    try:
        intake = runtime.manager
        app = runtime_app(runtime, plugins)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        freeze_heap()
        log.info("listening", mode=mode, url=f"http://{host}:{port}")
        for plugin in plugins:
            log.info("platform", status=plugin.status)
            if plugin.configured:
                await plugin.start(intake)
                started.append(plugin)
        await stop.wait()
        log.info("stopping")
    finally:
        for plugin in started:
            await plugin.close()
        if runner is not None:
            await runner.cleanup()
        await runtime.close()


async def start_worker_metrics(
    settings: Settings, registry: CollectorRegistry
) -> web.AppRunner | None:
    """Serve this worker's ``/metrics`` (and ``/healthz``) on its own port, 0 = off."""
    port = settings.worker_metrics_port
    if port == 0:
        return None
    app = web.Application()
    app.router.add_get("/metrics", metrics_view(registry))
    app.router.add_get("/healthz", _alive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.worker_metrics_host, port)
    await site.start()
    log.info("worker_metrics", url=f"http://{settings.worker_metrics_host}:{port}/metrics")
    return runner


async def _alive(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def work(settings: Settings, *, plugins: Sequence[PlatformPlugin]) -> None:
    """``nexus worker``: one ARQ worker (ARQ handles SIGINT/SIGTERM itself)."""
    for plugin in plugins:
        log.info("platform", status=plugin.status)
    metrics = NexusMetrics()
    options = worker_settings(settings, registry=build_registry(plugins), metrics=metrics)
    exporter = await start_worker_metrics(settings, metrics.registry)
    try:
        await run_worker(options)
    finally:
        if exporter is not None:
            await exporter.cleanup()
