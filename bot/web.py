"""The one aiohttp application: health, readiness, metrics, and the adapters' routes.

:func:`build_app` takes everything it serves from its arguments. Adapters add their
routes through ``routes`` — callables ``install(app)`` run once while building the app
(see :mod:`bot.platforms` for how ``nexus serve`` builds them) — and may read the
intake and registry from ``app[INTAKE]`` and ``app[REGISTRY]``.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware
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


def metrics_view(
    metrics: CollectorRegistry, before_scrape: Sequence[Callable[[], Awaitable[None]]] = ()
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The ``/metrics`` handler (the web app's, and each worker's own port)."""

    async def view(_request: web.Request) -> web.Response:
        for refresh in before_scrape:
            await refresh()
        return web.Response(
            body=generate_latest(metrics), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    return view


def bearer_protected(
    handler: Callable[[web.Request], Awaitable[web.Response]], token: str | None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``handler`` behind ``Authorization: Bearer <token>`` (``NEXUS_METRICS_TOKEN``);
    no token: open, as Prometheus scrapes inside the cluster by default."""
    if not token:
        return handler
    expected = f"Bearer {token}".encode()

    async def guarded(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(
                status=401,
                text="metrics need a bearer token\n",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await handler(request)

    return guarded


def build_app(
    *,
    intake: Intake,
    registry: PlatformRegistry,
    metrics: CollectorRegistry,
    checks: Sequence[tuple[str, Check]] = (),
    platform_status: Sequence[str] = (),
    routes: Sequence[RouteInstaller] = (),
    status: StatusLines | None = None,
    advisories: Sequence[tuple[str, Check]] = (),
    before_scrape: Sequence[Callable[[], Awaitable[None]]] = (),
    middlewares: Sequence[Middleware] = (),
    metrics_token: str | None = None,
) -> web.Application:
    """``/healthz`` (alive), ``/readyz`` (each check, each advisory, the ``status``
    lines, then one line per platform; 503 only when a check fails — an advisory such
    as Milvus is reported but does not stop this process from acking events),
    ``/metrics`` (Prometheus text from ``metrics``, after awaiting ``before_scrape``)
    and the adapters' routes."""
    app = web.Application(client_max_size=16 * 1024 * 1024, middlewares=list(middlewares))
    app[INTAKE] = intake
    app[REGISTRY] = registry

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_request: web.Request) -> web.Response:
        everything = [*checks, *advisories]
        results = await asyncio.gather(*(_run_check(name, check) for name, check in everything))
        lines = [line for _, line in results]
        lines += [*(status() if status is not None else ()), *platform_status]
        ready = all(ok for ok, _ in results[: len(checks)])
        return web.Response(text="\n".join(lines) + "\n", status=200 if ready else 503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get(
        "/metrics", bearer_protected(metrics_view(metrics, before_scrape), metrics_token)
    )
    for install in routes:
        install(app)
    return app
