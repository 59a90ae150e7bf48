"""The one aiohttp application: health, readiness, metrics, and the adapters' routes.

:func:`build_app` takes everything it serves from its arguments. Adapters add their
routes through ``routes`` — callables ``install(app)`` run once while building the app
(see :mod:`bot.platforms` for how ``nexus serve`` builds them) — and may read the
intake and registry from ``app[INTAKE]`` and ``app[REGISTRY]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from core.ports import Intake, PlatformRegistry

RouteInstaller = Callable[[web.Application], None]
Check = Callable[[], Awaitable[None]]
"""Raises when its dependency is unreachable."""
StatusLines = Callable[[], Sequence[str]]
"""Informational ``/readyz`` lines (sandbox, renderer): degraded, never unready."""

INTAKE = web.AppKey("intake", Intake)
REGISTRY = web.AppKey("registry", PlatformRegistry)

_CHECK_TIMEOUT = 2.0


async def _run_check(name: str, check: Check) -> tuple[bool, str]:
    try:
        async with asyncio.timeout(_CHECK_TIMEOUT):
            await check()
    except TimeoutError:
        return False, f"{name}: unreachable (no answer in {_CHECK_TIMEOUT:g} s)"
    except Exception as exc:
        return False, f"{name}: unreachable ({type(exc).__name__}: {str(exc)[:200]})"
    return True, f"{name}: ok"


def build_app(
    *,
    intake: Intake,
    registry: PlatformRegistry,
    metrics: CollectorRegistry,
    checks: Sequence[tuple[str, Check]] = (),
    platform_status: Sequence[str] = (),
    routes: Sequence[RouteInstaller] = (),
    status: StatusLines | None = None,
) -> web.Application:
    """``/healthz`` (alive), ``/readyz`` (each check, the ``status`` lines, then one
    line per platform; 503 only when a check fails),
    ``/metrics`` (Prometheus text from ``metrics``) and the adapters' routes."""
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[INTAKE] = intake
    app[REGISTRY] = registry

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_request: web.Request) -> web.Response:
        results = await asyncio.gather(*(_run_check(name, check) for name, check in checks))
        lines = [line for _, line in results]
        lines += [*(status() if status is not None else ()), *platform_status]
        ready = all(ok for ok, _ in results)
        return web.Response(text="\n".join(lines) + "\n", status=200 if ready else 503)

    async def metrics_view(_request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
    for install in routes:
        install(app)
    return app
