"""Downloading Discord attachments for the worker.

Why the worker downloads, not the adapter at accept time: the ack must stay well
inside Discord's 3 s whatever the file size or CDN latency (over HTTP the ack *is*
the response, sent after ``accept``), the worker picks a job up within seconds while
a signed CDN URL lives for hours (``ex``), and every platform then shares one fetch
path (``FileFetcher``) with no second copy of the bytes in the blob store. The
cost — a job that waits longer than the link lives — gets a clear "upload it
again" rather than silence, decided from the URL's own expiry before any request.

CDN downloads carry no Authorization (as in discord.py's ``Attachment.read``), so
the fetcher only downloads from Discord's CDN hosts (or the configured API host, for
tests) and never sends credentials anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp

from core.errors import FileTooLargeError, InputError, InternalError
from core.events import ConversationRef, FileRef
from core.logging import get_logger

log = get_logger("adapters.discord.fetch")

CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
_CHUNK = 64 * 1024


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class DiscordFetcher:
    """The :class:`~core.ports.FileFetcher` for Discord attachments."""

    def __init__(
        self,
        *,
        max_bytes: int,
        extra_hosts: frozenset[str] = frozenset(),
        timeout_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._max_bytes = max_bytes
        self._hosts = CDN_HOSTS | extra_hosts
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def limit_for(self, ref: FileRef) -> int:
        """The smaller of our own limit and the interaction's upload limit."""
        interaction_limit = ref.extra.get("size_limit")
        if isinstance(interaction_limit, int) and interaction_limit > 0:
            return min(self._max_bytes, interaction_limit)
        return self._max_bytes

    async def fetch(self, ref: FileRef, conversation: ConversationRef) -> bytes:
        limit = self.limit_for(ref)
        if ref.size is not None and ref.size > limit:
            raise FileTooLargeError(
                f"{ref.name} is {_mb(ref.size)}; the limit here is {_mb(limit)}."
            )
        expires = ref.extra.get("expires_at")
        if isinstance(expires, int) and expires <= self._clock():
            raise self._expired(ref)
        url = ref.download_url or ""
        if urlsplit(url).hostname not in self._hosts:
            raise InputError(f"I can only read {ref.name} from Discord's own file links.")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.get(url) as response:
                if response.status in (403, 404, 410):
                    raise self._expired(ref)
                if response.status != 200:
                    raise InternalError(f"Discord CDN answered {response.status}")
                return await self._read(response, ref, limit)
        except aiohttp.ClientError as exc:
            raise InternalError(f"Discord CDN download failed: {type(exc).__name__}") from exc

    async def _read(self, response: aiohttp.ClientResponse, ref: FileRef, limit: int) -> bytes:
        # Stop at limit + 1 bytes: a wrong declared size must not fill memory.
        data = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            data += chunk
            if len(data) > limit:
                raise FileTooLargeError(f"{ref.name} is larger than the limit of {_mb(limit)}.")
        log.info("discord_attachment_fetched", file_id=ref.id, bytes=len(data))
        return bytes(data)

    @staticmethod
    def _expired(ref: FileRef) -> InputError:
        return InputError(
            f"The link to {ref.name} has expired (Discord removes command uploads after a "
            "while). Please upload it again."
        )
