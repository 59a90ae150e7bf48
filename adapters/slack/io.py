"""The Slack I/O the core uses: post replies into threads, download shared files.

:class:`SlackSender` renders a :class:`~core.events.Reply` (see :mod:`.render`) and
posts it into the thread with ``chat.postMessage``, then uploads charts with
``files_upload_v2`` into the same thread. While a job runs it shows progress:
a :data:`WORKING` reaction on the asker's message (added by the listener at
accept time) and, for work still going after ``progress_after`` seconds, one status
message in the thread, edited at most every ``progress_interval`` seconds because
``chat.update`` is Tier 3 (~50/min). When the answer is posted, the status line
says "done" and the reaction becomes :data:`DONE` (only where :data:`WORKING` was,
so an immediate refusal gets no check mark).

:class:`SlackFetcher` downloads ``url_private_download`` with the bot token and
refuses Slack's HTML sign-in page, which Slack serves with status 200 when the
token or scope is wrong.
"""

from __future__ import annotations

import base64
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import BotTokens, WebClients
from adapters.slack.render import PostMessage, UploadFile, render_reply
from core.blobs import BlobStore
from core.datasets.sniff import FileKind, sniff
from core.errors import (
    FileTooLargeError,
    InternalError,
    UnsupportedFileError,
    UserFacingError,
)
from core.events import ConversationRef, FileRef, Reply
from core.logging import get_logger

WORKING = "eyes"
DONE = "white_check_mark"

_log = get_logger("adapters.slack.io")


@dataclass
class _Status:
    started: float
    ts: str | None = None
    """The status message, once posted."""
    shown: str = ""
    at: float = 0.0


class SlackSender:
    """Posts replies and progress; the core calls ``send`` once per idempotency key."""

    def __init__(
        self,
        clients: WebClients,
        *,
        blobs: BlobStore | None = None,
        progress_after: float = 3.0,
        progress_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = clients
        self._blobs = blobs
        self._quiet = progress_after
        self._interval = progress_interval
        self._clock = clock
        # Job key -> its status message; bounded, as a crashed job never finishes.
        self._status: OrderedDict[str, _Status] = OrderedDict()

    async def send(self, reply: Reply) -> None:
        conversation = reply.conversation
        client = await self._clients.for_conversation(conversation)
        channel, thread_ts = conversation.channel_id, conversation.thread_id
        for call in render_reply(reply):
            if isinstance(call, PostMessage):
                await client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=call.text,
                    blocks=call.blocks,
                    unfurl_links=False,
                )
            else:
                data = await self._file_bytes(call)
                await client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread_ts,
                    file=data,
                    filename=call.file_name,
                    title=call.title,
                    alt_txt=call.alt or None,
                )
        _log.info("slack.reply.sent", key=reply.idempotency_key, channel=conversation.channel_id)
        await self._finish(client, conversation, reply.idempotency_key)

    async def progress(self, conversation: ConversationRef, key: str, text: str) -> None:
        """A status line for long work only: quick answers show just the reaction."""
        now = self._clock()
        status = self._status.get(key)
        if status is None:
            self._remember(key, _Status(started=now))
            return
        line = f":hourglass_flowing_sand: {text}"
        quiet = now - status.started < self._quiet
        if quiet or line == status.shown or (status.ts and now - status.at < self._interval):
            return
        client = await self._clients.for_conversation(conversation)
        try:
            if status.ts is None:
                response = await client.chat_postMessage(
                    channel=conversation.channel_id, thread_ts=conversation.thread_id, text=line
                )
                status.ts = str(response["ts"])
            else:
                await client.chat_update(channel=conversation.channel_id, ts=status.ts, text=line)
            status.shown, status.at = line, now
        except SlackApiError as exc:
            # Progress is a courtesy: failing it must not fail the job.
            _log.warning("slack.progress.failed", key=key, error=exc.response.get("error"))

    async def acknowledge(self, conversation: ConversationRef) -> None:
        """Mark the asker's message as seen (called right after the ack)."""
        client = await self._clients.for_conversation(conversation)
        await self._react(client, conversation, add=WORKING)

    async def _finish(
        self, client: AsyncWebClient, conversation: ConversationRef, key: str
    ) -> None:
        status = self._status.pop(key, None)
        if status is not None and status.ts is not None:
            done = f":white_check_mark: Done in {self._clock() - status.started:.0f} s."
            try:
                await client.chat_update(channel=conversation.channel_id, ts=status.ts, text=done)
            except SlackApiError as exc:
                _log.warning("slack.progress.failed", key=key, error=exc.response.get("error"))
        if await self._react(client, conversation, remove=WORKING):
            await self._react(client, conversation, add=DONE)

    async def _react(
        self,
        client: AsyncWebClient,
        conversation: ConversationRef,
        *,
        add: str | None = None,
        remove: str | None = None,
    ) -> bool:
        """Add or remove one reaction on the asker's message; False if it did not
        happen (no such message, already there or gone, missing scope): cosmetic."""
        message_ts = conversation.data.get("message_ts")
        if not isinstance(message_ts, str):
            return False  # slash commands have no message to react to
        where = {"channel": conversation.channel_id, "timestamp": message_ts}
        try:
            if remove is not None:
                await client.reactions_remove(name=remove, **where)
            if add is not None:
                await client.reactions_add(name=add, **where)
        except SlackApiError as exc:
            _log.info("slack.reaction.skipped", error=exc.response.get("error"))
            return False
        return True

    async def _file_bytes(self, call: UploadFile) -> bytes:
        if call.data_base64 is not None:
            return base64.b64decode(call.data_base64)
        if self._blobs is None or call.blob_key is None:
            raise InternalError("reply file is in the blob store but the sender has none")
        return await self._blobs.get(call.blob_key)

    def _remember(self, key: str, status: _Status) -> None:
        self._status[key] = status
        while len(self._status) > 1000:
            self._status.popitem(last=False)


_HTML_NAMES = {".html", ".htm"}


class SlackFetcher:
    """Downloads a shared file with the workspace's bot token."""

    def __init__(self, tokens: BotTokens, *, max_bytes: int, timeout: float = 60.0) -> None:
        self._tokens = tokens
        self._max = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def fetch(self, ref: FileRef, conversation: ConversationRef) -> bytes:
        if ref.download_url is None:
            raise UnsupportedFileError(
                f"Slack did not give Nexus a download link for {ref.name} (it may be hidden by "
                "the workspace's plan or stored outside Slack). Upload the file itself."
            )
        if ref.size is not None and ref.size > self._max:
            raise FileTooLargeError(_too_large(ref.name, self._max))
        token = await self._tokens.token_for(conversation)
        headers = {"Authorization": f"Bearer {token}"}
        # aiohttp drops the Authorization header on a redirect to another host.
        async with self._http().get(ref.download_url, headers=headers, max_redirects=3) as resp:
            if resp.status in (401, 403, 404, 410):
                raise UserFacingError(
                    f"Nexus could not download {ref.name} from Slack (HTTP {resp.status}): it "
                    "may have been deleted, or Nexus lacks access. Share it again in this thread."
                )
            if resp.status >= 400:
                raise InternalError(f"slack file download failed with HTTP {resp.status}")
            data = await _read_capped(resp, self._max, ref.name)
            content_type = resp.content_type
        if _is_sign_in_page(data, content_type, ref):
            _log.warning("slack.file.login_page", file_id=ref.id)
            raise UnsupportedFileError(
                f"Slack sent a sign-in page instead of {ref.name}: Nexus is missing the "
                "files:read permission or the file is no longer shared with it. Ask an admin "
                "to reinstall Nexus, then share the file again."
            )
        return data

    def _http(self) -> aiohttp.ClientSession:
        # trust_env stays False: downloads never go through HTTP(S)_PROXY by surprise.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _read_capped(resp: aiohttp.ClientResponse, limit: int, name: str) -> bytes:
    if resp.content_length is not None and resp.content_length > limit:
        raise FileTooLargeError(_too_large(name, limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise FileTooLargeError(_too_large(name, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _is_sign_in_page(data: bytes, content_type: str, ref: FileRef) -> bool:
    """HTML where the file is not HTML: Slack's login page, not the upload."""
    declared_html = ref.mime == "text/html" or PurePath(ref.name).suffix.lower() in _HTML_NAMES
    if declared_html:
        return False
    return content_type == "text/html" or sniff(data[:8192], ref.name) is FileKind.HTML


def _too_large(name: str, limit: int) -> str:
    return f"{name} is larger than the {limit // (1024 * 1024)} MB Nexus accepts per file."
