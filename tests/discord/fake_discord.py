"""A fake Discord (REST + gateway + CDN) that the real discord.py talks to, on 127.0.0.1:0.

It follows the wire contract in ``reference/platforms.md`` §2, including the traps
that break naive fakes:

- every JSON response has ``Content-Type`` exactly ``application/json`` (discord.py
  parses nothing else; aiohttp's ``json_response`` adds a charset);
- a scripted 429 carries ``Via: 1.1 google`` and ``{"retry_after", "global"}``, or
  discord.py would treat it as a Cloudflare ban and not retry;
- the interaction callback answers 200 with ``{"interaction": {"id", "type"}}``;
- gateway frames are plain text (discord.py only decompresses binary frames).

Everything that reaches the fake is recorded, so tests assert on the wire.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fake_discord_shapes as shapes
from aiohttp import BodyPartReader, web
from fake_discord_gateway import FakeGateway

DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake(at: float | None = None, *, seq: int = 0) -> str:
    """A snowflake whose embedded time is ``at`` (epoch seconds; default now)."""
    ms = int((time.time() if at is None else at) * 1000)
    return str(((ms - DISCORD_EPOCH_MS) << 22) | (seq & 0x3FFFFF))


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    files: list[tuple[str, str, bytes]] = field(default_factory=list)
    """(form field name, file name, bytes) of each multipart file part."""


class FakeDiscord(FakeGateway):
    def __init__(self, *, bot_token: str = "fake-bot-token") -> None:
        super().__init__()
        self.bot_token = bot_token
        self.application_id = snowflake(seq=1)
        self.bot_user_id = snowflake(seq=2)
        self.requests: list[Recorded] = []
        self.callbacks: dict[str, list[Any]] = {}
        """Interaction id -> callback bodies that were accepted."""
        self.expired_tokens: set[str] = set()
        self.unknown_channels: set[str] = set()
        self.cdn: dict[str, bytes] = {}
        self._rate_limits: list[list[Any]] = []
        self._ids = itertools.count(100)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # lifecycle -----------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/gw/", self._gateway)
        app.router.add_get("/cdn/{name:.*}", self._cdn)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        await self.close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    # scripting -----------------------------------------------------------------------
    def rate_limit(
        self, method: str, path_prefix: str, *, times: int = 1, retry_after: float = 0.2
    ) -> None:
        """The next ``times`` matching requests get a 429 that discord.py must retry."""
        self._rate_limits.append([method, path_prefix, times, retry_after])

    def host_file(self, name: str, data: bytes, *, expired: bool = False) -> str:
        """Serve ``data`` on the fake CDN; return a signed-looking URL like Discord's."""
        self.cdn[name] = data
        ex = int(time.time()) + (-60 if expired else 86_400)
        return f"http://127.0.0.1:{self.port}/cdn/{name}?ex={ex:x}&is={ex - 86_400:x}&hm=abc&"

    def of(self, method: str, contains: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and contains in r.path]

    async def wait_for(self, check: Callable[[], Any], within: float = 10.0) -> Any:
        """Poll ``check()`` until it is truthy; return its value.

        Polling, because conditions span the fake, the test's intake and the worker.
        """
        async with asyncio.timeout(within):
            while True:
                result = check()
                if result:
                    return result
                await asyncio.sleep(0.01)

    def user(self) -> dict[str, Any]:
        return shapes.user(self.bot_user_id)

    def message(self, channel_id: str, body: dict[str, Any], files: list[Any]) -> dict[str, Any]:
        base = f"http://127.0.0.1:{self.port}/cdn"
        attachments = [
            shapes.attachment(str(next(self._ids)), n, len(d), base) for _, n, d in files
        ]
        return shapes.message(
            snowflake(seq=next(self._ids)), channel_id, body, attachments, self.user()
        )

    # HTTP ------------------------------------------------------------------------------
    async def _record(self, request: web.Request) -> Recorded:
        path = "/" + request.match_info.get("tail", "")
        rec = Recorded(request.method, path, dict(request.headers))
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/form-data"):
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, BodyPartReader)  # discord.py sends no nested parts
                data = await part.read()
                if part.name == "payload_json":
                    rec.json = json.loads(data)
                else:
                    rec.files.append((part.name or "", part.filename or "", bytes(data)))
        elif ctype.startswith("application/json"):
            rec.json = await request.json()
        return rec

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        rec = await self._record(request)
        limited = self._limited(rec)
        self.requests.append(rec)
        if limited is not None:
            body = {
                "message": "You are being rate limited.",
                "retry_after": limited,
                "global": False,
            }
            # Via marks it as Discord's own 429; without it discord.py assumes a ban.
            return _json(body, 429, {"Via": "1.1 google"})
        return self._route(rec)

    def _limited(self, rec: Recorded) -> float | None:
        for rule in self._rate_limits:
            method, prefix, times, retry_after = rule
            if times > 0 and rec.method == method and rec.path.startswith(prefix):
                rule[2] -= 1
                return float(retry_after)
        return None

    def _route(self, rec: Recorded) -> web.Response:
        parts = rec.path.strip("/").split("/")
        bot_auth = rec.headers.get("Authorization") == f"Bot {self.bot_token}"
        if parts[0] in ("users", "oauth2", "applications", "channels", "gateway") and not bot_auth:
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        if rec.path == "/users/@me":
            return _json(self.user())
        if rec.path in ("/oauth2/applications/@me", "/applications/@me"):
            return _json(shapes.application(self.application_id, self.user()))
        if rec.path == "/gateway/bot":
            return _json(shapes.gateway_bot(f"ws://127.0.0.1:{self.port}/gw/"))
        if parts[0] == "applications" and parts[-1] == "commands" and rec.method == "PUT":
            return _json(
                [shapes.command(c, str(next(self._ids)), self.application_id) for c in rec.json]
            )
        if parts[0] == "interactions":
            return self._callback(parts[1], parts[2], rec)
        if parts[0] == "webhooks":
            return self._webhook(parts[2], rec)
        if parts[0] == "channels":
            return self._channel(parts, rec)
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _callback(self, interaction_id: str, token: str, rec: Recorded) -> web.Response:
        if token in self.expired_tokens:
            return _json({"message": "Unknown interaction", "code": 10062}, 404)
        if interaction_id in self.callbacks:
            return _json(
                {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
            )
        self.callbacks[interaction_id] = [rec.json]
        return _json(shapes.callback(interaction_id))

    def _webhook(self, token: str, rec: Recorded) -> web.Response:
        if token in self.expired_tokens:
            return _json({"message": "Invalid Webhook Token", "code": 50027}, 401)
        return _json(self.message(snowflake(seq=7), rec.json or {}, rec.files))

    def _channel(self, parts: list[str], rec: Recorded) -> web.Response:
        channel_id = parts[1]
        if parts[-1] == "typing":
            return web.Response(status=204)
        if parts[-1] == "threads":  # POST /channels/{c}/messages/{m}/threads
            thread_id = parts[3]
            self.unknown_channels.discard(thread_id)
            name = rec.json.get("name", "")
            return _json(shapes.thread(thread_id, channel_id, self.bot_user_id, name), 201)
        if channel_id in self.unknown_channels:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        return _json(self.message(channel_id, rec.json or {}, rec.files))

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        ex = int(request.query.get("ex", "0"), 16)
        if name not in self.cdn or ex < time.time():
            return web.Response(status=404, text="This content is no longer available.")
        return web.Response(body=self.cdn[name], content_type="text/csv")


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py's json_or_text compares the whole header.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
