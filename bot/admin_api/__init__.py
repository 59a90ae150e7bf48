"""The admin HTTP API under ``/admin/api/v1`` (see ``docs/governance.md``).

:func:`admin_api_routes` returns the route installer that ``bot.web.build_app`` runs:
it mounts a sub-application with the endpoint table of
:mod:`~bot.admin_api.workspace_endpoints` and :mod:`~bot.admin_api.data_endpoints`,
the authorising middleware of :mod:`~bot.admin_api.framework`, and the generated
OpenAPI document at ``/admin/api/v1/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from bot.admin_api import data_endpoints, workspace_endpoints
from bot.admin_api.deps import AdminDeps
from bot.admin_api.framework import Endpoint, middleware
from bot.admin_api.openapi import build_openapi

ENDPOINTS: list[Endpoint] = [*workspace_endpoints.ENDPOINTS, *data_endpoints.ENDPOINTS]

__all__ = ["ENDPOINTS", "AdminDeps", "admin_api_routes", "build_admin_app"]


def build_admin_app(deps: AdminDeps) -> web.Application:
    table = {(e.method, e.path): e for e in ENDPOINTS}
    document = build_openapi(ENDPOINTS, deps.base_path)
    app = web.Application(middlewares=[middleware(deps, table)], client_max_size=1024 * 1024)

    async def openapi(_request: web.Request) -> web.Response:
        return web.json_response(document)

    async def unrouted(_request: web.Request) -> web.Response:
        raise AssertionError("the middleware answers every endpoint in the table")

    app.router.add_get("/openapi.json", openapi)
    for endpoint in ENDPOINTS:
        app.router.add_route(endpoint.method, endpoint.path, unrouted)
    return app


def admin_api_routes(deps: AdminDeps) -> Callable[[web.Application], None]:
    def install(app: web.Application) -> None:
        app.add_subapp(deps.base_path, build_admin_app(deps))

    return install
