"""The SDK's authentication with its outbound clients built once, not once per turn.

``CloudAdapterBase`` asks for a new ``ConnectorClient`` and a new ``UserTokenClient``
on every incoming turn and every proactive reply. Each is a fresh msrest client
(configuration, retry policy, ``requests`` session): together about a sixth of the
web process's CPU per Teams event in ``bench/load.py``. The Bot Framework's own .NET
adapter keeps them per service URL and app; this wrapper does the same. The clients
are stateless between calls, and their credentials cache and refresh their token
themselves, so one client per (app, service URL, audience) serves every turn.
"""

from __future__ import annotations

from botbuilder.schema import Activity
from botframework.connector import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient
from cachetools import LRUCache

_MAX_CLIENTS = 256

ConnectorCache = LRUCache[tuple[str, str, str], ConnectorClient]


class _CachingConnectorFactory(ConnectorFactory):
    def __init__(
        self,
        inner: ConnectorFactory,
        app_id: str,
        cache: ConnectorCache,
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._cache = cache

    async def create(self, service_url: str, audience: str) -> ConnectorClient:
        key = (self._app_id, service_url, audience or "")
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._cache[key] = client
        return client


class CachingAuthentication(BotFrameworkAuthentication):
    """Delegates everything to ``inner``; keeps the clients it creates."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._connectors: ConnectorCache = LRUCache(_MAX_CLIENTS)
        self._user_tokens: LRUCache[str, UserTokenClient] = LRUCache(_MAX_CLIENTS)

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None and result.claims_identity is not None:
            result.connector_factory = self._caching(
                result.connector_factory, result.claims_identity
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._caching(self._inner.create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._user_tokens.get(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._user_tokens[app_id] = client
        return client

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    def _caching(self, inner: ConnectorFactory, claims: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(inner, _app_id(claims), self._connectors)


def _app_id(claims: ClaimsIdentity) -> str:
    """The app the clients act for: their tokens are that app's."""
    return JwtTokenValidation.get_app_id_from_claims(claims.claims) or ""
