"""``POST /api/messages``: the Bot Framework messaging endpoint.

The request is authenticated here, before any turn runs, rather than inside
``CloudAdapter.process``: there, a missing header with our parameterized settings
gives 500 (botbuilder 4.17 checks ``is None`` but is passed ``""``), and an expired,
badly signed or unknown-key token raises plain exceptions that also become 500 —
which the Bot Framework service would retry. Here every authentication failure is a
401, and only a failing turn (the queue is down) is a 500, which Teams retries.

The authenticated result is handed to ``CloudAdapter.process_activity``, so the turn
gets the connector client for the activity's service URL exactly as usual. The turn
reads the activity from the raw JSON, not from the SDK's model: botbuilder's
``Activity`` drops what its schema does not name (the mention's ``mentioned``, the
conversation's ``tenantId``), and those decide who is addressed and which workspace.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web
from botbuilder.core import CloudAdapterBase, serializer_helper
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError

from adapters.teams.convert import activity_to_message
from adapters.teams.turn import TeamsTurn
from core.logging import get_logger

MESSAGES_PATH = "/api/messages"

_log = get_logger("adapters.teams.endpoint")


def _problem(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


class MessagesEndpoint:
    """Validate, authenticate, then run the turn (see module docstring)."""

    def __init__(self, adapter: CloudAdapterBase, turn: TeamsTurn, *, auth_required: bool) -> None:
        self._adapter = adapter
        self._turn = turn
        self._auth_required = auth_required

    async def handle(self, request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "expected application/json")
        try:
            body: Any = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):  # absurd nesting
            return _problem(400, "body is not JSON")
        if not isinstance(body, dict):
            return _problem(400, "body is not an activity")
        try:
            activity = Activity().deserialize(body)
        except DeserializationError:  # a field of the wrong type: a client error, not ours
            return _problem(400, "body is not an activity")
        if not activity.type:
            return _problem(400, "activity has no type")
        header = request.headers.get("Authorization", "")
        if self._auth_required and not header:
            return _problem(401, "missing Authorization header")
        authentication = self._adapter.bot_framework_authentication
        try:
            result = await authentication.authenticate_request(activity, header)
        except Exception as exc:  # the SDK raises PermissionError, jwt errors, bare Exception
            _log.info("teams.auth.rejected", reason=type(exc).__name__)
            return _problem(401, "unauthorized")
        turn = partial(self._turn.run, activity_to_message(body))
        invoke = await self._adapter.process_activity(result, activity, turn)
        if invoke is not None:
            return web.json_response(serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)
