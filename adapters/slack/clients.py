"""Slack Web API clients and the bot token of each workspace.

Every client points at ``SLACK_API_URL`` (Slack itself, a proxy, or a test's fake
server) and retries 429s: slack-sdk installs only a connection-error retry handler
by default, so without :class:`AsyncRateLimitErrorRetryHandler` a rate-limited call
would fail the reply instead of waiting ``Retry-After`` seconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from core.errors import ConfigurationError
from core.events import ConversationRef


def make_client(
    base_url: str,
    token: str | None = None,
    *,
    rate_limit_retries: int = 3,
    timeout: int = 30,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """An AsyncWebClient for ``base_url`` that waits out 429s and retries 5xx once."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )


class BotTokens(Protocol):
    """The bot token to act with in a conversation's workspace."""

    async def token_for(self, conversation: ConversationRef) -> str: ...


class StaticBotToken:
    """Single-workspace mode: one ``SLACK_BOT_TOKEN`` for everything."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token_for(self, conversation: ConversationRef) -> str:
        return self._token


FindBotToken = Callable[[str | None, str], Awaitable[str | None]]
"""``(enterprise_id, team_id) -> bot token or None`` (the installation store)."""


class InstalledBotTokens:
    """Multi-workspace mode: each team's token from its OAuth installation."""

    def __init__(self, find: FindBotToken) -> None:
        self._find = find

    async def token_for(self, conversation: ConversationRef) -> str:
        enterprise = conversation.data.get("enterprise_id")
        enterprise_id = enterprise if isinstance(enterprise, str) else None
        token = await self._find(enterprise_id, conversation.workspace_id)
        if token is None:
            raise ConfigurationError(
                f"Nexus is not installed in Slack team {conversation.workspace_id}"
            )
        return token


class WebClients:
    """One client per bot token, created on first use (a worker serves many teams),
    all sharing one HTTP session: without it AsyncWebClient opens a new session and
    connection per call, which under load costs more than the call itself."""

    def __init__(self, base_url: str, tokens: BotTokens, *, rate_limit_retries: int = 3) -> None:
        self._base_url = base_url
        self._tokens = tokens
        self._retries = rate_limit_retries
        self._clients: dict[str, AsyncWebClient] = {}
        self._session: aiohttp.ClientSession | None = None

    async def for_conversation(self, conversation: ConversationRef) -> AsyncWebClient:
        token = await self._tokens.token_for(conversation)
        if self._session is None or self._session.closed:
            # Created here, inside the running loop; trust_env off as in slack-sdk.
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
            self._clients.clear()
        client = self._clients.get(token)
        if client is None:
            client = make_client(
                self._base_url, token, rate_limit_retries=self._retries, session=self._session
            )
            self._clients[token] = client
        return client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def token_for(self, conversation: ConversationRef) -> str:
        return await self._tokens.token_for(conversation)
