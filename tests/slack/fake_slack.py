"""A local fake of the Slack Web API, file hosting, OAuth and Socket Mode.

It speaks the wire protocol the real SDK uses (reference/platforms.md §1), so the
real ``AsyncWebClient``, bolt app and ``AsyncSocketModeHandler`` run against it:

- one catch-all ``/api/<method>`` accepting GET or POST, merging query string,
  urlencoded form and JSON body (AsyncWebClient puts some methods' params in the
  query), answering ``application/json``;
- bearer tokens map to teams; a token used on another team's channel gets
  ``channel_not_found``, so cross-workspace leaks fail loudly;
- ``files.getUploadURLExternal`` → ``POST /upload/<id>`` (raw bytes, *no* auth,
  ``text/plain`` "OK") → ``files.completeUploadExternal`` (``files`` a JSON string);
- private file downloads need the team's bearer token, otherwise Slack's HTML
  sign-in page comes back with status 200;
- scripted 429s with an integer ``Retry-After``;
- ``oauth.v2.access`` (client id/secret by HTTP Basic auth) for issued codes;
- ``apps.connections.open`` + a ``ws://`` Socket Mode server that sends ``hello``,
  pushes envelopes and records the acks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web
from fake_slack_methods import Call, Team, Upload, WebApiMethods, error, ok

LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"
)

__all__ = ["LOGIN_PAGE", "Call", "FakeSlack", "Team", "Upload"]


class FakeSlack(WebApiMethods):
    def __init__(self, *, app_token: str = "xapp-1-test") -> None:
        self.app_token = app_token
        self.teams: dict[str, Team] = {}  # by bot token
        self.calls: list[Call] = []
        self.messages: list[dict[str, Any]] = []
        self.uploads: dict[str, Upload] = {}
        self.reactions: set[tuple[str, str, str]] = set()
        self.files: dict[str, tuple[str, bytes]] = {}  # path -> (team, bytes)
        self.downloads: list[tuple[str, str | None]] = []  # (path, token)
        self.oauth_codes: dict[str, tuple[Team, str]] = {}
        self.client_id, self.client_secret = "111.222", "client-secret"
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_connections = 0
        self._rate_limits: dict[str, list[int]] = {}
        self._changed = asyncio.Event()
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{path:.*}", self._download)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # -- scripting ----------------------------------------------------------------
    def add_team(
        self, team_id: str, *, name: str | None = None, channels: tuple[str, ...] = ()
    ) -> Team:
        n = len(self.teams) + 1
        team = Team(
            id=team_id,
            name=name or f"team-{team_id}",
            bot_token=f"xoxb-{team_id}-{secrets.token_hex(4)}",
            bot_user_id=f"UBOT{n}",
            bot_id=f"BBOT{n}",
            channels=set(channels),
        )
        self.teams[team.bot_token] = team
        return team

    def add_file(
        self, team: Team, name: str, data: bytes, mimetype: str = "text/csv"
    ) -> dict[str, Any]:
        """Host a file and return its Slack file object (as in ``event.files``)."""
        file_id = f"F{next(self._ids):06d}"
        path = f"{team.id}-{file_id}/download/{name}"
        self.files[path] = (team.id, data)
        return {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rsplit(".", 1)[-1],
            "size": len(data),
            "mode": "hosted",
            "is_external": False,
            "url_private": f"{self.base_url}/files-pri/{team.id}-{file_id}/{name}",
            "url_private_download": f"{self.base_url}/files-pri/{path}",
        }

    def issue_oauth_code(self, team: Team, installer: str) -> str:
        code = f"code-{secrets.token_hex(6)}"
        self.oauth_codes[code] = (team, installer)
        return code

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [
            m for m in self.messages if m["channel"] == channel and m.get("thread_ts") == thread_ts
        ]

    async def send_envelope(
        self, payload: dict[str, Any], *, kind: str = "events_api", retry_attempt: int = 0
    ) -> str:
        envelope_id = f"env-{next(self._ids)}"
        await self._outbox.put(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
                "payload": payload,
            }
        )
        return envelope_id

    async def wait_until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        """Wake on every request the fake records (and every 50 ms, for conditions
        on other objects) until ``condition`` holds."""
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

    # -- Web API ------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        elif request.content_type == "application/json":
            params.update(await request.json())
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        self.calls.append(Call(method, params, token, request.method))
        self._changed.set()
        if self._rate_limits.get(method):
            retry_after = self._rate_limits[method].pop(0)
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        if method == "oauth.v2.access":
            return self._oauth_access(params, auth)
        if method == "apps.connections.open":
            if token != self.app_token:
                return error("invalid_auth")
            return ok(url=f"ws://{request.host}/socket?ticket={secrets.token_hex(4)}")
        team = self.teams.get(token or "")
        if team is None:
            return error("not_authed" if not token else "invalid_auth")
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return error("unknown_method")
        result: web.Response = handler(team, params, request)
        return result

    # -- files --------------------------------------------------------------------
    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="not found")
        upload.data = await request.read()
        upload.upload_had_auth = "Authorization" in request.headers
        return web.Response(text=f"OK - {len(upload.data)}", content_type="text/plain")

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        self.downloads.append((path, token))
        team = self.teams.get(token or "")
        hosted = self.files.get(path)
        if hosted is None or team is None or team.id != hosted[0]:
            # Real Slack: a missing or wrong token gets the sign-in page, status 200.
            return web.Response(body=LOGIN_PAGE, content_type="text/html")
        return web.Response(body=hosted[1], content_type="application/octet-stream")

    # -- Socket Mode ------------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.socket_connections += 1
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        sender = asyncio.create_task(self._pump(ws))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(msg.data))
                    self._changed.set()
        finally:
            sender.cancel()
        return ws

    async def _pump(self, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            envelope = await self._outbox.get()
            await ws.send_json(envelope)
