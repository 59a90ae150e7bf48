"""Run the web app (``nexus serve`` / ``nexus dev``) or the worker until a signal.

Startup logs one line per platform (configured or why not), as DESIGN.md asks.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from aiohttp import web

from bot.platforms import PlatformPlugin, build_registry
from bot.runtime import Mode, open_runtime
from bot.web import RouteInstaller, build_app
from core.gc_tuning import freeze_heap
from core.logging import get_logger
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
        app = build_app(
            intake=intake,
            registry=runtime.registry,
            metrics=runtime.metrics.registry,
            checks=runtime.checks(),
            status=runtime.status_lines,
            platform_status=[p.status for p in plugins],
            routes=[_installer(p, intake) for p in plugins if p.configured],
        )
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


async def work(settings: Settings, *, plugins: Sequence[PlatformPlugin]) -> None:
    """``nexus worker``: one ARQ worker (ARQ handles SIGINT/SIGTERM itself)."""
    for plugin in plugins:
        log.info("platform", status=plugin.status)
    options = worker_settings(settings, registry=build_registry(plugins))
    await run_worker(options)
