"""Downloading files sent to Nexus in Teams, for the worker.

Two kinds arrive (see :mod:`.convert`):

- **Files in personal chat** (``auth="none"``): ``downloadUrl`` is a short-lived,
  pre-authenticated OneDrive/SharePoint link. Fetched with a plain GET and no
  credentials, so nothing leaks wherever it points.
- **Inline images** (``auth="platform"``): ``contentUrl`` on the Bot Framework
  attachments service needs the bot's own token. The token is only ever sent to the
  conversation's service host or Bot Framework hosts, never to any other URL an
  activity might carry.

Both are capped at the ingest limit while streaming; an expired link or a deleted
file becomes a "send it again" message.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp
from botframework.connector.auth import ServiceClientCredentialsFactory

from core.datasets.guards import format_bytes
from core.errors import FileTooLargeError, InputError, InternalError
from core.events import ConversationRef, FileRef
from core.logging import get_logger

_log = get_logger("adapters.teams.fetch")

TOKEN_HOSTS = frozenset({"smba.trafficmanager.net"})
TOKEN_HOST_SUFFIXES = (".botframework.com", ".botframework.azure.us")
_CHUNK = 64 * 1024


class TeamsFetcher:
    """The :class:`~core.ports.FileFetcher` for Teams attachments."""

    def __init__(
        self,
        *,
        app_id: str,
        credentials: ServiceClientCredentialsFactory,
        oauth_scope: str,
        login_url: str,
        max_bytes: int,
        timeout_seconds: float = 60.0,
    ) -> None:
        self._app_id = app_id
        self._credentials = credentials
        self._scope = oauth_scope
        self._login_url = login_url
        self._max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, ref: FileRef, conversation: ConversationRef) -> bytes:
        if ref.size is not None and ref.size > self._max_bytes:
            raise self._too_large(ref)
        url = ref.download_url or ""
        if urlsplit(url).scheme not in ("http", "https"):
            raise InputError(f"Teams gave Nexus no usable link to {ref.name}. Send the file again.")
        headers = await self._auth_headers(url, conversation) if ref.auth == "platform" else {}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.get(url, headers=headers) as response:
                if response.status in (401, 403, 404, 410):
                    raise InputError(
                        f"The link Teams gave Nexus for {ref.name} has expired or no longer "
                        "works. Send the file to Nexus again."
                    )
                if response.status != 200:
                    raise InternalError(f"Teams file download answered {response.status}")
                return await self._read(response, ref)
        except aiohttp.ClientError as exc:
            raise InternalError(f"Teams file download failed: {type(exc).__name__}") from exc

    async def _auth_headers(self, url: str, conversation: ConversationRef) -> dict[str, str]:
        host = urlsplit(url).hostname or ""
        service_url = conversation.data.get("service_url")
        service_host = urlsplit(service_url).hostname if isinstance(service_url, str) else None
        trusted = host == service_host or host in TOKEN_HOSTS or host.endswith(TOKEN_HOST_SUFFIXES)
        if not trusted:
            raise InputError("Nexus can only read images that Teams itself stores. Paste it again.")
        if not self._app_id:
            return {}  # development mode: no credentials to send
        credentials = await self._credentials.create_credentials(
            self._app_id, self._scope, self._login_url, True
        )
        # MSAL is synchronous (an HTTP call on a cold cache): keep it off the loop.
        token = await asyncio.to_thread(credentials.get_access_token)
        return {"Authorization": f"Bearer {token}"}

    async def _read(self, response: aiohttp.ClientResponse, ref: FileRef) -> bytes:
        # Stop one chunk past the limit: a wrong declared size must not fill memory.
        data = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            data += chunk
            if len(data) > self._max_bytes:
                raise self._too_large(ref)
        _log.info("teams.file.fetched", file_id=ref.id, bytes=len(data))
        return bytes(data)

    def _too_large(self, ref: FileRef) -> FileTooLargeError:
        limit = format_bytes(self._max_bytes)
        return FileTooLargeError(f"{ref.name} is larger than the {limit} Nexus accepts per file.")
