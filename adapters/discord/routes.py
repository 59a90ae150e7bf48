"""Wiring Discord into the processes: the plugin ``bot.platforms`` loads.

- ``DISCORD_PUBLIC_KEY`` mounts ``POST /discord/interactions`` (HTTP interactions).
- ``DISCORD_BOT_TOKEN`` starts the gateway client (commands, mentions, threads) and
  lets the sender post to channels when an interaction token has expired.
- ``DISCORD_API_URL`` points every REST call (and so the gateway URL, which comes
  from ``GET /gateway/bot``) at another server.

The worker uses only :meth:`DiscordPlugin.io`: replies go out over REST, without a
gateway connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from aiohttp import web

from adapters.discord.fetch import CDN_HOSTS, DiscordFetcher
from adapters.discord.gateway import NexusGateway
from adapters.discord.interactions import InteractionsEndpoint
from adapters.discord.io import DiscordSender, configure_rest_base
from core.blobs import BlobStore
from core.logging import get_logger
from core.ports import Intake, PlatformIO
from core.settings import IngestLimits, Settings

log = get_logger("adapters.discord.routes")

INTERACTIONS_PATH = "/discord/interactions"


def _status(settings: Settings) -> str:
    token, key = settings.discord_bot_token, settings.discord_public_key
    if token and key:
        return f"discord: gateway and HTTP interactions at {INTERACTIONS_PATH}"
    if token:
        return "discord: gateway (slash commands, mentions, threads)"
    if key:
        return (
            f"discord: HTTP interactions at {INTERACTIONS_PATH} (no DISCORD_BOT_TOKEN: "
            "no mentions, and answers after 15 min cannot be posted)"
        )
    return "discord: not configured (set DISCORD_BOT_TOKEN and/or DISCORD_PUBLIC_KEY)"


class DiscordPlugin:
    """Discord's part in ``nexus serve`` / ``dev`` / ``worker`` (see ``bot.platforms``)."""

    platform = "discord"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.configured = bool(settings.discord_bot_token or settings.discord_public_key)
        self.status = _status(settings)
        self._io: PlatformIO | None = None
        self._sender: DiscordSender | None = None
        self._fetcher: DiscordFetcher | None = None
        self._endpoint: InteractionsEndpoint | None = None
        self._gateway: NexusGateway | None = None
        self._task: asyncio.Task[None] | None = None
        if self.configured:
            configure_rest_base(settings.discord_api_url)

    def _token(self) -> str | None:
        token = self._settings.discord_bot_token
        return token.get_secret_value() if token else None

    def io(self) -> PlatformIO:
        if self._io is None:
            host = urlsplit(self._settings.discord_api_url).hostname or ""
            # A non-Discord API base (a test server) also serves the attachments.
            extra = frozenset() if host.endswith("discord.com") or host in CDN_HOSTS else {host}
            self._sender = DiscordSender(
                bot_token=self._token(), blobs=BlobStore.for_data_dir(self._settings.data_dir)
            )
            self._fetcher = DiscordFetcher(
                max_bytes=IngestLimits().max_file_bytes, extra_hosts=frozenset(extra)
            )
            self._io = PlatformIO(fetcher=self._fetcher, sender=self._sender)
        return self._io

    def install_routes(self, app: web.Application, intake: Intake) -> None:
        key = self._settings.discord_public_key
        if not key:
            return
        self._endpoint = InteractionsEndpoint(
            public_key=key, intake=intake, sender=self.io().sender
        )
        app.router.add_post(INTERACTIONS_PATH, self._endpoint.handle)

    async def start(self, intake: Intake) -> None:
        token = self._token()
        if not token:
            return
        guild = self._settings.discord_command_guild_id
        self._gateway = NexusGateway(
            intake=intake,
            sender=self.io().sender,
            message_content=self._settings.discord_message_content,
            sync_commands=self._settings.discord_sync_commands,
            command_guild_id=int(guild) if guild else None,
        )
        # In the background: the web app serves while the gateway connects (and
        # reconnects; discord.py retries with backoff on its own).
        self._task = asyncio.create_task(self._gateway.start(token))
        self._task.add_done_callback(_report)

    async def close(self) -> None:
        if self._gateway is not None:
            await self._gateway.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 10)
        if self._endpoint is not None:
            await self._endpoint.aclose()
        if self._sender is not None:
            await self._sender.aclose()
        if self._fetcher is not None:
            await self._fetcher.aclose()


def _report(task: asyncio.Task[None]) -> None:
    error = None if task.cancelled() else task.exception()
    if error is not None:
        log.error("discord_gateway_stopped", error=type(error).__name__, exc_info=error)


def platform_plugin(settings: Settings) -> DiscordPlugin:
    return DiscordPlugin(settings)
