"""Wiring the Slack adapter from :class:`core.settings.Settings`.

Two modes, chosen by which credentials are set:

- single workspace: ``SLACK_BOT_TOKEN`` (+ ``SLACK_SIGNING_SECRET``);
- many workspaces: ``SLACK_CLIENT_ID`` + ``SLACK_CLIENT_SECRET`` (+ signing secret):
  OAuth install, tokens per team from the database.

``SLACK_APP_TOKEN`` adds Socket Mode to either. Web processes build the whole
:class:`SlackAdapter`; workers need only :func:`build_slack_io` (sender + fetcher).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiohttp import web
from redis.asyncio import Redis
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore

from adapters.slack.app import SlackListeners, build_app
from adapters.slack.clients import (
    BotTokens,
    InstalledBotTokens,
    StaticBotToken,
    WebClients,
    make_client,
)
from adapters.slack.install import DatabaseInstallationStore, RedisOAuthStateStore
from adapters.slack.io import SlackFetcher, SlackSender
from adapters.slack.routes import SocketMode, mount
from adapters.slack.threads import LocalThreadMemory, RedisThreadMemory, ThreadMemory
from core.blobs import BlobStore
from core.errors import ConfigurationError
from core.governance.encryption import secret_box
from core.ports import Intake, PlatformIO
from core.settings import IngestLimits, Settings
from core.storage.db import Database


def missing_credentials(settings: Settings) -> str | None:
    """Why Slack cannot start (one line for the startup log and /readyz), or None."""
    has_oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    if not (settings.slack_bot_token or has_oauth):
        return "set SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"
    if not (settings.slack_signing_secret or settings.slack_app_token):
        return "set SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (socket mode)"
    return None


def describe(settings: Settings) -> str:
    """The startup line of a configured Slack adapter."""
    parts = []
    if settings.slack_signing_secret:
        parts.append("HTTP events at /slack/events")
    if uses_oauth(settings):
        parts.append("OAuth install at /slack/install")
    if settings.slack_app_token:
        parts.append("socket mode")
    return "slack: " + ", ".join(parts)


def uses_oauth(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


@dataclass
class SlackIO:
    """The sender and fetcher, plus what must be closed with them."""

    sender: SlackSender
    fetcher: SlackFetcher
    clients: WebClients
    store: DatabaseInstallationStore | None = None

    @property
    def platform_io(self) -> PlatformIO:
        return PlatformIO(fetcher=self.fetcher, sender=self.sender)

    async def close(self) -> None:
        await self.fetcher.close()
        await self.clients.close()


def build_slack_io(
    settings: Settings,
    *,
    database: Database | None,
    blobs: BlobStore | None = None,
    ingest: IngestLimits | None = None,
) -> SlackIO:
    """What a worker needs to post into, and download from, any installed workspace."""
    store: DatabaseInstallationStore | None = None
    tokens: BotTokens
    if uses_oauth(settings):
        if database is None:
            raise ConfigurationError("Slack OAuth install needs the database (DATABASE_URL)")
        store = DatabaseInstallationStore(database, box=secret_box(settings))
        tokens = InstalledBotTokens(store.bot_token)
    elif settings.slack_bot_token is not None:
        tokens = StaticBotToken(settings.slack_bot_token.get_secret_value())
    else:
        raise ConfigurationError("Slack needs SLACK_BOT_TOKEN or SLACK_CLIENT_ID/SECRET")
    clients = WebClients(settings.slack_api_url, tokens)
    limits = ingest or IngestLimits()
    return SlackIO(
        sender=SlackSender(clients, blobs=blobs),
        fetcher=SlackFetcher(tokens, max_bytes=limits.max_file_bytes),
        clients=clients,
        store=store,
    )


@dataclass
class SlackAdapter:
    """Everything the web process runs for Slack."""

    app: AsyncApp
    listeners: SlackListeners
    io: SlackIO
    socket_mode: SocketMode | None = None
    http_events: bool = True
    _started: bool = field(default=False, init=False)

    def mount(self, web_app: web.Application) -> None:
        mount(web_app, self.app, events=self.http_events)

    async def start(self) -> None:
        if self.socket_mode is not None and not self._started:
            await self.socket_mode.start()
            self._started = True

    async def close(self) -> None:
        if self.socket_mode is not None and self._started:
            await self.socket_mode.stop()
        await self.listeners.drain()
        await self.io.close()


def build_slack_adapter(
    settings: Settings,
    intake: Intake,
    *,
    database: Database | None,
    redis: Redis | None = None,
    blobs: BlobStore | None = None,
    redis_prefix: str = "nexus",
    accept_timeout: float = 2.0,
    io: SlackIO | None = None,
) -> SlackAdapter:
    """The bolt app with its listeners, I/O, OAuth flow and Socket Mode, from settings.

    Call :func:`missing_credentials` first; this raises ``ConfigurationError`` when
    Slack is not configured. ``io`` reuses a worker's sender and fetcher (``nexus dev``).
    """
    reason = missing_credentials(settings)
    if reason is not None:
        raise ConfigurationError(reason)
    io = io or build_slack_io(settings, database=database, blobs=blobs)
    memory: ThreadMemory = (
        RedisThreadMemory(redis, prefix=redis_prefix) if redis is not None else LocalThreadMemory()
    )
    listeners = SlackListeners(intake, io.sender, memory, accept_timeout=accept_timeout)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    if io.store is None:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        client = make_client(settings.slack_api_url, token)
        app = build_app(listeners, client=client, signing_secret=signing_secret)
    else:
        client = make_client(settings.slack_api_url)
        app = build_app(
            listeners,
            client=client,
            signing_secret=signing_secret,
            oauth_settings=_oauth_settings(settings, io.store, redis, redis_prefix),
            installation_store=io.store,
            # Cache auth.test per token: one Web API round trip per team, not per event.
            authorize=AsyncInstallationStoreAuthorize(
                logger=logging.getLogger("adapters.slack.bolt"),
                installation_store=io.store,
                bot_only=True,
                cache_enabled=True,
                client=client,
            ),
        )
    socket_mode = (
        SocketMode(app, settings.slack_app_token.get_secret_value())
        if settings.slack_app_token is not None
        else None
    )
    return SlackAdapter(
        app=app,
        listeners=listeners,
        io=io,
        socket_mode=socket_mode,
        http_events=bool(signing_secret),
    )


def _oauth_settings(
    settings: Settings,
    store: DatabaseInstallationStore,
    redis: Redis | None,
    redis_prefix: str,
) -> AsyncOAuthSettings:
    assert settings.slack_client_id and settings.slack_client_secret  # checked by the caller
    secret = settings.slack_client_secret.get_secret_value()
    # One-time states in Redis when there is one; otherwise signed, expiring states
    # (no storage, valid on every process) from slack-sdk.
    state_store: AsyncOAuthStateStore = (
        RedisOAuthStateStore(redis, prefix=redis_prefix)
        if redis is not None
        else StatelessOAuthStateStore(expiration_seconds=600, signing_secret=secret)
    )
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret,
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        installation_store=store,
        installation_store_bot_only=True,
        state_store=state_store,
    )
