"""Posting replies into Discord without a gateway connection.

A reply to a slash command edits the deferred ``@original`` message and posts
follow-ups through the interaction webhook (``application_id`` + interaction token,
no bot token). The token accepts follow-ups for 15 minutes; after that, or when
Discord answers 401/404 for the webhook, the rest of the reply goes to the channel
with the bot token. Replies to messages (mentions, DMs, threads) always use the bot
token, starting the answer thread on the user's message when needed.

All requests go through discord.py (``Webhook.partial`` and a logged-in
``Client`` without a gateway), so rate limits, retries and multipart encoding are
discord.py's own.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import aiohttp
import discord

from adapters.discord.render import OutMessage, render_reply
from core.blobs import BlobStore
from core.errors import ConfigurationError, StorageError
from core.events import ConversationRef, FileSegment, ImageSegment, Reply
from core.logging import get_logger

log = get_logger("adapters.discord.io")

EXPIRY_MARGIN_SECONDS = 30.0
"""Treat a token this close to expiry as expired: a multi-message reply takes time."""
NO_MENTIONS = discord.AllowedMentions.none()
"""Answers quote data and LLM text: never let them ping @everyone or a role."""
ORIGINAL: Any = "@original"
"""The deferred response's message id in webhook routes; discord.py types ids as int."""
THREAD_ARCHIVE_MINUTES: Literal[1440] = 1440
_UNKNOWN_CHANNEL = 10003
_THREAD_EXISTS = 160004


def configure_rest_base(api_url: str) -> None:
    """Point every discord.py REST, webhook and interaction call at ``api_url``.

    discord.py exposes its base URL only as the class variable ``Route.BASE``, so
    this is process-wide by nature; one process talks to one Discord.
    """
    discord.http.Route.BASE = api_url.rstrip("/")


def _embeds(message: OutMessage) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in message.embeds]


def _files(message: OutMessage) -> list[discord.File]:
    # Fresh File objects per request: discord.py consumes and closes them.
    return [discord.File(io.BytesIO(f.data), filename=f.name) for f in message.files]


async def _channel_send(
    channel: discord.PartialMessageable,
    message: OutMessage,
    content: str | None,
    mentions: discord.AllowedMentions,
    reference: discord.MessageReference | None,
) -> None:
    if reference is None:  # discord.py's default is None; MISSING is not accepted here
        await channel.send(
            content=content,
            embeds=_embeds(message),
            files=_files(message),
            allowed_mentions=mentions,
        )
        return
    await channel.send(
        content=content,
        embeds=_embeds(message),
        files=_files(message),
        allowed_mentions=mentions,
        reference=reference,
    )


class DiscordSender:
    """The :class:`~core.ports.ReplySender` for Discord."""

    def __init__(
        self,
        *,
        bot_token: str | None,
        blobs: BlobStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bot_token = bot_token
        self._blobs = blobs
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._client: discord.Client | None = None
        self._login = asyncio.Lock()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._session is not None:
            await self._session.close()

    # ReplySender ------------------------------------------------------------------
    async def send(self, reply: Reply) -> None:
        messages = render_reply(reply, await self._payloads(reply))
        conv = reply.conversation
        sent = 0
        if self._webhook_usable(conv):
            webhook = self._webhook(conv)
            try:
                for message in messages:
                    await self._post_webhook(webhook, message, original=sent == 0)
                    sent += 1
            except discord.HTTPException as exc:
                # 401 Invalid Webhook Token / 404 Unknown Webhook: the token died early.
                if exc.status not in (401, 404):
                    raise
                log.info("discord_token_rejected", status=exc.status, code=exc.code, sent=sent)
        if sent < len(messages):
            await self._send_channel(conv, messages[sent:], mention_actor=sent == 0)

    async def progress(self, conversation: ConversationRef, key: str, text: str) -> None:
        """Show status on the deferred message, or a typing indicator elsewhere.

        Progress is a courtesy: failures are logged, never raised into the job.
        """
        try:
            if self._webhook_usable(conversation):
                await self._webhook(conversation).edit_message(
                    ORIGINAL,
                    content=text,
                    allowed_mentions=NO_MENTIONS,
                )
            elif self._bot_token:
                client = await self._bot()
                # The answer thread may not exist yet: type in the channel it will open from.
                where = conversation.channel_id if conversation.data.get("start_thread") else None
                await client.http.send_typing(
                    int(where) if where else self._post_channel(conversation)
                )
        except (discord.HTTPException, aiohttp.ClientError) as exc:
            log.info("discord_progress_failed", key=key, error=type(exc).__name__)

    # interaction webhook ----------------------------------------------------------
    def _webhook_usable(self, conv: ConversationRef) -> bool:
        expires = conv.data.get("token_expires_at")
        return (
            bool(conv.data.get("interaction_token"))
            and isinstance(expires, int | float)
            and self._clock() < expires - EXPIRY_MARGIN_SECONDS
        )

    def _webhook(self, conv: ConversationRef) -> discord.Webhook:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        app_id = int(str(conv.data["application_id"]))
        token = str(conv.data["interaction_token"])
        return discord.Webhook.partial(app_id, token, session=self._session)

    @staticmethod
    async def _post_webhook(
        webhook: discord.Webhook, message: OutMessage, *, original: bool
    ) -> None:
        if original:
            # After a type-5 defer the answer belongs on @original (a follow-up sent
            # "directly after" a defer edits it too, but Discord deprecates that).
            await webhook.edit_message(
                ORIGINAL,
                content=message.content,
                embeds=_embeds(message),
                attachments=_files(message),
                allowed_mentions=NO_MENTIONS,
            )
            return
        await webhook.send(
            content=message.content or discord.utils.MISSING,
            embeds=_embeds(message),
            files=_files(message),
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )

    # bot token ---------------------------------------------------------------------
    async def _bot(self) -> discord.Client:
        """A client logged in over REST only (no gateway), created on first use."""
        if not self._bot_token:
            raise ConfigurationError("DISCORD_BOT_TOKEN is needed to post outside an interaction")
        async with self._login:
            if self._client is None:
                # No gateway is opened; the guilds intent only keeps discord.py quiet.
                intents = discord.Intents(guilds=True)
                client = discord.Client(intents=intents, allowed_mentions=NO_MENTIONS)
                await client.login(self._bot_token)
                self._client = client
        return self._client

    @staticmethod
    def _post_channel(conv: ConversationRef) -> int:
        return int(conv.thread_id or conv.channel_id)

    async def _send_channel(
        self, conv: ConversationRef, messages: Sequence[OutMessage], *, mention_actor: bool
    ) -> None:
        client = await self._bot()
        channel = client.get_partial_messageable(self._post_channel(conv))
        reference = None
        message_id = conv.data.get("message_id")
        if message_id and not conv.data.get("start_thread"):
            # A DM or an existing thread: answer as a reply to the user's message.
            reference = discord.MessageReference(
                message_id=int(str(message_id)),
                channel_id=self._post_channel(conv),
                fail_if_not_exists=False,
            )
        actor = conv.data.get("user_id")
        for n, message in enumerate(messages):
            content = message.content
            mentions = NO_MENTIONS
            if n == 0 and mention_actor and actor:
                # Outside the interaction the user gets no "replied" marker: ping them.
                content = f"<@{actor}> {content or ''}".strip()
                mentions = discord.AllowedMentions(users=[discord.Object(int(str(actor)))])
            first_ref = reference if n == 0 else None
            try:
                await _channel_send(channel, message, content, mentions, first_ref)
            except discord.NotFound as exc:
                if exc.code != _UNKNOWN_CHANNEL or not conv.data.get("start_thread"):
                    raise
                await self._start_thread(client, conv)
                await _channel_send(channel, message, content, mentions, first_ref)

    async def _start_thread(self, client: discord.Client, conv: ConversationRef) -> None:
        """Start the answer thread on the user's message (Discord gives it that id).

        Through ``client.http``: discord.py's ``PartialMessage.create_thread`` wants
        the guild in its cache, which a client without a gateway never has.
        """
        try:
            await client.http.start_thread_with_message(
                int(conv.channel_id),
                int(str(conv.data["message_id"])),
                name=str(conv.data.get("thread_name") or "Nexus"),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except discord.HTTPException as exc:
            if exc.code != _THREAD_EXISTS:  # a concurrent reply already started it
                raise

    async def _payloads(self, reply: Reply) -> dict[str, bytes]:
        keys = [
            s.blob_key
            for s in reply.segments
            if isinstance(s, ImageSegment | FileSegment) and s.blob_key is not None
        ]
        if keys and self._blobs is None:
            raise StorageError("reply refers to blobs but the Discord sender has no blob store")
        return {key: await self._blobs.get(key) for key in keys} if self._blobs else {}
