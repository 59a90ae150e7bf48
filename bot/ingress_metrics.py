"""Ack latency and rejections of the platforms' HTTP requests, measured at the door.

One aiohttp middleware times every POST to a platform route from the request's arrival
to its response (``nexus_ack_seconds{platform}``) and counts non-2xx answers by reason
(``nexus_events_rejected_total{platform, reason}``), so every adapter — present or
future — is measured the same way without code of its own. Socket Mode and the Discord
gateway do not come through HTTP; their events are counted by ``nexus_events_total``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from core.metrics import NexusMetrics

PLATFORM_PATHS: Mapping[str, str] = {
    "/slack/": "slack",
    "/discord/": "discord",
    "/api/messages": "teams",
    "/playground/": "playground",
}
"""Path prefix → platform, as fixed by DESIGN.md's HTTP interface."""


def platform_of(path: str, paths: Mapping[str, str] = PLATFORM_PATHS) -> str | None:
    return next((name for prefix, name in paths.items() if path.startswith(prefix)), None)


def rejection_reason(status: int) -> str:
    """Why a platform request was answered non-2xx, from its status alone."""
    if status in (401, 403):
        return "signature"
    if status == 413:
        return "too_large"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "enqueue_failed"  # the platform retries: nothing accepted is dropped
    return "malformed"


def ingress_middleware(
    metrics: NexusMetrics, paths: Mapping[str, str] = PLATFORM_PATHS
) -> Middleware:
    @web.middleware
    async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
        platform = platform_of(request.path, paths) if request.method == "POST" else None
        if platform is None:
            return await handler(request)
        started = time.perf_counter()
        status = 500  # an exception that is not an HTTP answer becomes a 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            metrics.ack_seconds.labels(platform).observe(time.perf_counter() - started)
            if status >= 400:
                metrics.events_rejected.labels(platform, rejection_reason(status)).inc()

    return measure
