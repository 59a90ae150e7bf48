"""The admin API's request frame: one table of endpoints, one middleware.

Every request under ``/admin/api/v1`` passes, in order:

1. authentication — ``Authorization: Bearer nxk_...``; missing, malformed, unknown,
   expired or revoked: **401**;
2. the key's rate limit — **429** with ``Retry-After``;
3. scope — a ``{workspace_id}`` in the path other than the key's own: **403**;
4. role — the key's role must include the endpoint's minimum role: **403**;
5. the handler, in one database transaction; bad input **400/422**, missing **404**.

From step 2 on, every request (allowed or not) records the key's last use and one
audit entry (``api.request`` or ``api.denied``) in the key's workspace.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin_api.deps import AdminDeps
from core.access import ROLE_PERMISSIONS, Role
from core.errors import AccessDeniedError, AuthenticationError, InputError
from core.governance import api_keys as keys
from core.logging import get_logger
from core.storage.models import ApiKey, utcnow
from core.storage.repositories import api_keys, audit

log = get_logger("admin_api")

M = TypeVar("M", bound=BaseModel)
_MAX_PARAMETER = 200
"""Longest path or query value: ids are at most this long in every table."""
Result = BaseModel | web.StreamResponse


class NotFound(InputError):
    """The workspace-scoped thing named in the path does not exist (404)."""


@dataclass
class Call:
    """One authorised request, as handlers see it."""

    request: web.Request
    key: ApiKey
    session: AsyncSession
    deps: AdminDeps

    @property
    def workspace_id(self) -> str:
        return self.key.workspace_id

    @property
    def actor(self) -> str:
        return f"apikey:{self.key.id}"

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    def query(self, model: type[M]) -> M:
        return model.model_validate(dict(self.request.query))

    async def body(self, model: type[M]) -> M:
        try:
            payload = await self.request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError("The request body must be JSON.") from exc
        return model.model_validate(payload)


Handler = Callable[[Call], Awaitable[Result]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """Relative to ``/admin/api/v1``; ``{workspace_id}`` is checked against the key."""
    handler: Handler
    summary: str
    role: Role
    """The least role a key needs."""
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    """None: 204 No Content."""
    csv: bool = False
    """Also answers ``text/csv`` (``?format=csv``)."""
    extra_statuses: Sequence[int] = field(default=())


def role_includes(role: str, least: Role) -> bool:
    """Roles are nested in core.access: a role includes another if it grants all of it."""
    return ROLE_PERMISSIONS[least] <= ROLE_PERMISSIONS[Role(role)]


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"Invalid {where}: {first['msg']}."


def middleware(deps: AdminDeps, table: dict[tuple[str, str], Endpoint]) -> Any:
    @web.middleware
    async def admin_api(request: web.Request, handler: Any) -> web.StreamResponse:
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else ""
        endpoint = table.get((request.method, canonical.removeprefix(deps.base_path)))
        try:
            async with deps.database.session() as session:
                key = await keys.authenticate(session, request.headers.get("Authorization"))
        except AuthenticationError as exc:
            log.info("admin_api.unauthenticated", path=canonical or request.path)
            return error(401, exc.user_message, {"WWW-Authenticate": 'Bearer realm="nexus"'})
        if endpoint is None:
            return await handler(request)  # aiohttp's own 404/405 (and the OpenAPI doc)
        response = await _authorised(request, key, endpoint, deps)
        await _record(deps, key, request, canonical, response.status)
        return response

    return admin_api


async def _authorised(
    request: web.Request, key: ApiKey, endpoint: Endpoint, deps: AdminDeps
) -> web.StreamResponse:
    allowed, retry_after = await deps.limiter.hit(key.id, key.rate_limit_per_minute)
    if not allowed:
        return error(
            429,
            f"Rate limit of this key reached; retry in {retry_after} s.",
            {"Retry-After": str(retry_after)},
        )
    given = [*request.match_info.values(), *request.query.values()]
    if any("\x00" in value or len(value) > _MAX_PARAMETER for value in given):
        return error(400, f"Path and query values must be text of at most {_MAX_PARAMETER} chars.")
    scoped = request.match_info.get("workspace_id")
    if scoped is not None and scoped != key.workspace_id:
        return error(403, "This key belongs to another workspace.")
    if not role_includes(key.role, endpoint.role):
        return error(403, f"This key's role ({key.role}) cannot do this; it needs {endpoint.role}.")
    try:
        async with deps.database.session() as session:
            result = await endpoint.handler(Call(request, key, session, deps))
    except ValidationError as exc:
        return error(422, _validation_message(exc))
    except NotFound as exc:
        return error(404, exc.user_message)
    except AccessDeniedError as exc:
        return error(403, exc.user_message)
    except InputError as exc:
        return error(400, exc.user_message)
    if isinstance(result, web.StreamResponse):
        return result
    return web.json_response(text=result.model_dump_json())


async def _record(
    deps: AdminDeps, key: ApiKey, request: web.Request, path: str, status: int
) -> None:
    action = "api.denied" if status in (403, 429) else "api.request"
    async with deps.database.session() as session:
        await api_keys.touch(session, key.workspace_id, key.id, utcnow())
        await audit.append(
            session,
            key.workspace_id,
            action=action,
            actor_id=f"apikey:{key.id}",
            target=f"{request.method} {path}",
            detail={"status": status, "path": request.path.replace("\x00", "")[:300]},
        )
