"""Slack's HTTP endpoints on our aiohttp app, and the Socket Mode connection.

``POST /slack/events`` carries events, slash commands and interactivity (one
Request URL for all three); bolt verifies each request's signature and answers
URL verification itself. ``GET /slack/install`` and ``GET /slack/oauth_redirect``
exist only when OAuth is configured. Socket Mode (``SLACK_APP_TOKEN``) delivers the
same payloads over a websocket that Nexus opens, for deployments without a public
URL; both transports feed the same bolt app.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from core.logging import get_logger

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"

_log = get_logger("adapters.slack.routes")


def _integer_timestamp(value: str | None) -> bool:
    """Absent (bolt refuses it) or a whole number, as Slack sends."""
    if value is None:
        return True
    try:
        int(value)
    except ValueError:
        return False
    return True


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    user: str | None = None
    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    text: str | None = None
    files: list[dict[str, Any]] | None = None


class _Envelope(BaseModel):
    """The fields of an Events API callback that bolt and our converter rely on."""

    model_config = ConfigDict(extra="allow")
    team_id: str | None = None
    event_id: str | None = None
    authorizations: list[dict[str, Any]] | None = None
    event: _Event


def _event_shaped(body: object) -> bool:
    """Not an event callback, or one shaped as Slack sends it: bolt's middleware and
    listener matching raise on anything else (a 500, which Slack would retry)."""
    if not isinstance(body, dict) or body.get("type") != "event_callback":
        return True
    try:
        _Envelope.model_validate(body)
    except ValidationError:
        return False
    return True


class SlackRoutes:
    """aiohttp handlers that hand each request to bolt unchanged."""

    def __init__(self, app: AsyncApp) -> None:
        self._app = app

    async def events(self, request: web.Request) -> web.Response:
        if not _integer_timestamp(request.headers.get(TIMESTAMP_HEADER)):
            # bolt's verifier calls int() on it unguarded: a 500 instead of a 401.
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = await to_bolt_request(request)
        except (AttributeError, LookupError, TypeError, ValueError, RecursionError):
            # bolt parses the body before it checks the signature, and assumes an
            # object: ``null`` or ``[]`` would be a 500, which Slack retries.
            return web.json_response({"error": "not a Slack request"}, status=400)
        if not _event_shaped(bolt_request.body):
            return web.json_response({"error": "malformed Slack request"}, status=400)
        try:
            bolt_response = await self._app.async_dispatch(bolt_request)
        except (AttributeError, LookupError, TypeError, ValueError):
            # Only bolt's own code raises here (a listener's error becomes bolt's 500
            # response): its middleware assumes Slack's shapes (``event`` an object).
            return web.json_response({"error": "malformed Slack request"}, status=400)
        return await to_aiohttp_response(bolt_response)

    async def install(self, request: web.Request) -> web.Response:
        flow = self._app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self._app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))


def mount(web_app: web.Application, app: AsyncApp, *, events: bool = True) -> None:
    """Add the Slack routes: events unless ``events`` is False (Socket Mode only, no
    signing secret: an unsigned endpoint must not exist), OAuth ones if bolt has an
    OAuth flow."""
    routes = SlackRoutes(app)
    if events:
        web_app.router.add_post(EVENTS_PATH, routes.events)
    if app.oauth_flow is not None:
        web_app.router.add_get(INSTALL_PATH, routes.install)
        web_app.router.add_get(REDIRECT_PATH, routes.oauth_redirect)


class SocketMode:
    """The Socket Mode connection (opened at startup, closed at shutdown).

    ``apps.connections.open`` goes through the bolt app's client, so it honours
    ``SLACK_API_URL`` like every other call.
    """

    def __init__(self, app: AsyncApp, app_token: str) -> None:
        self._handler = AsyncSocketModeHandler(app, app_token=app_token)

    async def start(self) -> None:
        await self._handler.connect_async()
        _log.info("slack.socket_mode.connected")

    async def stop(self) -> None:
        await self._handler.close_async()
