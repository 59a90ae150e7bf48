"""The Bot Framework side of Teams, faked on 127.0.0.1.

- :class:`FakeChannelAuth`: the channel's signing key and its OpenID metadata + JWKS,
  served by a stdlib HTTP server **in another thread**: botbuilder fetches keys with
  blocking ``requests.get`` inside the event loop, so a server on the same loop
  would deadlock (platforms.md §0.14). It signs tokens like the real channel
  (RS256, ``kid``, ``iss``, ``aud``, ``serviceurl``, ``nbf``/``exp``) and can sign
  wrong ones on request.
- :class:`FakeConnector`: the Bot Connector REST API (``POST /v3/conversations/{id}
  /activities[/{replyToId}]``) that records activities and checks the bearer token,
  plus attachment downloads (a pre-authenticated ``downloadUrl`` and an inline image
  that needs the bot token). Failures can be scripted per request (429, 500, ...).
- :class:`StaticTokenCredentials`: outbound tokens without Azure AD (MSAL refuses
  ``http://`` authorities, §0.15): the SDK's own password factory, whose app-id
  checks stay real, with only the token request replaced.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web
from botframework.connector.auth import AppCredentials, PasswordServiceClientCredentialFactory
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "11111111-2222-3333-4444-555555555555"
APP_PASSWORD = "not-a-real-secret"
ISSUER = "https://api.botframework.com"
BOT_TOKEN = "bot-token-" + uuid.uuid4().hex
KEY_ID = "channel-key-1"


class StaticTokenCredentials(PasswordServiceClientCredentialFactory):
    """The SDK's factory (app-id checks included) minus the Azure AD round trip."""

    def __init__(self, app_id: str = APP_ID, token: str = BOT_TOKEN) -> None:
        super().__init__(app_id, APP_PASSWORD)
        self.token = token

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not await self.is_valid_app_id(app_id):
            raise PermissionError("invalid app id")
        token = self.token

        class _Static(AppCredentials):
            def get_access_token(self, force_refresh: bool = False) -> str:
                return token

        return _Static(
            app_id=app_id, channel_auth_tenant="botframework.com", oauth_scope=oauth_scope
        )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def channel_token(
    key: rsa.RSAPrivateKey, issuer: str, service_url: str | None, **overrides: Any
) -> str:
    """A channel token signed with ``key`` (RS256, ``kid``) for ``service_url``, valid
    for an hour from now; ``overrides`` change claims (None drops one)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + 3600,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})


class FakeChannelAuth:
    """Signing key, OpenID metadata and JWKS of a fake Bot Framework channel."""

    def __init__(self, issuer: str = ISSUER, key: rsa.RSAPrivateKey | None = None) -> None:
        self.issuer = issuer
        # A fixed key lets another process mint tokens this channel vouches for.
        self.key = key or _new_key()
        self.metadata_requests = 0
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update(kid=KEY_ID, use="sig", endorsements=["msteams"])
        self._jwks = {"keys": [jwk]}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.endswith("openidconfiguration"):
                    fake.metadata_requests += 1
                    body: Any = {"issuer": fake.issuer, "jwks_uri": f"{fake.base_url}/keys"}
                elif self.path == "/keys":
                    body = fake._jwks
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

    def start(self) -> FakeChannelAuth:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def token(self, service_url: str, **overrides: Any) -> str:
        """A channel token for ``service_url``; ``overrides`` change claims (None drops
        one), ``key=`` signs with another key."""
        return channel_token(overrides.pop("key", self.key), self.issuer, service_url, **overrides)

    def header(self, service_url: str, **overrides: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(service_url, **overrides)}"}


@dataclass
class Posted:
    """One activity the bot posted to the connector."""

    conversation_id: str
    reply_to: str | None
    body: dict[str, Any]
    authorization: str | None

    @property
    def type(self) -> str:
        return str(self.body.get("type"))

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return list(self.body.get("attachments") or [])


@dataclass
class FakeConnector:
    """Bot Connector REST API and attachment downloads on one aiohttp server."""

    token: str | None = BOT_TOKEN
    """The bearer token posts must carry; None: accept unauthenticated (dev mode)."""
    posted: list[Posted] = field(default_factory=list)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    """Answers for the next *message* posts (not typing), in order, before success."""
    message_attempts: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    downloads: list[tuple[str, str | None]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _base: str = ""
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def service_url(self) -> str:
        return self._base + "/"

    async def start(self) -> FakeConnector:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._post)
        app.router.add_get("/files/{name}", self._download)
        app.router.add_get("/v3/attachments/{id}/views/original", self._image)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def file_url(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self._base}/files/{name}"

    def image_url(self, data: bytes) -> str:
        image_id = uuid.uuid4().hex
        self.images[image_id] = data
        return f"{self._base}/v3/attachments/{image_id}/views/original"

    def messages(self) -> Iterator[Posted]:
        return (p for p in self.posted if p.type == "message")

    async def wait_for(
        self, count: int, kind: str = "message", within: float = 60.0
    ) -> list[Posted]:
        """The first ``count`` posted activities of ``kind``, once there are that many."""

        def ready() -> bool:
            return sum(p.type == kind for p in self.posted) >= count

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(ready)
        return [p for p in self.posted if p.type == kind][:count]

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("type") == "message":
            self.message_attempts += 1
            if self.failures:
                status, headers = self.failures.pop(0)
                error = {"error": {"code": "Throttled"}}
                return web.json_response(error, status=status, headers=headers)
        authorization = request.headers.get("Authorization")
        if self.token is not None and authorization != f"Bearer {self.token}":
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        reply_to = request.match_info.get("reply_to")
        posted = Posted(
            conversation_id=unquote(request.match_info["conversation"]),
            reply_to=unquote(reply_to) if reply_to else None,
            body=body,
            authorization=request.headers.get("Authorization"),
        )
        async with self._changed:
            self.posted.append(posted)
            self._changed.notify_all()
        return web.json_response({"id": f"bot-{len(self.posted)}"}, status=201)

    async def _download(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.downloads.append((name, request.headers.get("Authorization")))
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    async def _image(self, request: web.Request) -> web.Response:
        image_id = request.match_info["id"]
        self.downloads.append((image_id, request.headers.get("Authorization")))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401)
        return web.Response(body=self.images[image_id], content_type="image/png")
