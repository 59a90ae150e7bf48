"""Wiring Teams into the processes: the plugin ``bot.platforms`` loads.

One ``CloudAdapter`` per process, built from settings (:mod:`.auth`). ``nexus
serve``/``dev`` mount ``POST /api/messages``; ``nexus worker`` only uses
:meth:`TeamsPlugin.io` (the proactive sender and the file fetcher). Both need the
database, where turns store conversation references and the worker reads them.

``credentials`` (tests, or deployments with their own token source) replaces how
outbound Bot Connector tokens are obtained; by default the SDK asks Azure AD with
``TEAMS_APP_ID``/``TEAMS_APP_PASSWORD``.
"""

from __future__ import annotations

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import ServiceClientCredentialsFactory

from adapters.teams import sdk_fixes
from adapters.teams.auth import TeamsAuth, auth_enabled, build_auth, missing_credentials
from adapters.teams.endpoint import MESSAGES_PATH, MessagesEndpoint
from adapters.teams.fetch import TeamsFetcher
from adapters.teams.io import TeamsSender
from adapters.teams.references import ReferenceStore
from adapters.teams.retry import ConnectorRetry
from adapters.teams.turn import TeamsTurn
from core.blobs import BlobStore
from core.logging import get_logger
from core.ports import Intake, PlatformIO
from core.settings import IngestLimits, Settings
from core.storage.db import Database

_log = get_logger("adapters.teams.plugin")

sdk_fixes.apply()


def describe(settings: Settings) -> str:
    reason = missing_credentials(settings)
    if reason is not None:
        return f"teams: not configured ({reason})"
    if not auth_enabled(settings):
        return f"teams: DEVELOPMENT MODE, unauthenticated activities at {MESSAGES_PATH}"
    return f"teams: Bot Framework messages at {MESSAGES_PATH}"


class TeamsPlugin:
    """Teams' part in ``nexus serve`` / ``dev`` / ``worker`` (see ``bot.platforms``)."""

    platform = "teams"

    def __init__(
        self,
        settings: Settings,
        *,
        credentials: ServiceClientCredentialsFactory | None = None,
        retry: ConnectorRetry | None = None,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._retry = retry or ConnectorRetry()
        self.configured = missing_credentials(settings) is None
        self.status = describe(settings)
        self._auth: TeamsAuth | None = None
        self._adapter: CloudAdapter | None = None
        self._database: Database | None = None
        self._sender: TeamsSender | None = None
        self._fetcher: TeamsFetcher | None = None
        self._io: PlatformIO | None = None

    def _parts(self) -> tuple[TeamsAuth, CloudAdapter, ReferenceStore]:
        if self._auth is None or self._adapter is None or self._database is None:
            self._auth = build_auth(self._settings, credentials=self._credentials)
            self._adapter = CloudAdapter(self._auth.authentication)
            self._database = Database(self._settings.resolved_database_url)
            if not self._auth.enabled:
                _log.warning("teams.auth.disabled", reason="TEAMS_DEV_MODE without TEAMS_APP_ID")
        return self._auth, self._adapter, ReferenceStore(self._database)

    def io(self) -> PlatformIO:
        if self._io is None:
            auth, adapter, references = self._parts()
            self._sender = TeamsSender(
                adapter,
                app_id=auth.app_id,
                references=references,
                retry=self._retry,
                blobs=BlobStore.for_data_dir(self._settings.data_dir),
            )
            self._fetcher = TeamsFetcher(
                app_id=auth.app_id,
                credentials=auth.credentials,
                oauth_scope=auth.oauth_scope,
                login_url=auth.login_url,
                max_bytes=IngestLimits().max_file_bytes,
            )
            self._io = PlatformIO(fetcher=self._fetcher, sender=self._sender)
        return self._io

    def _teams_sender(self) -> TeamsSender:
        self.io()
        if self._sender is None:
            raise RuntimeError("Teams sender missing after io()")
        return self._sender

    def install_routes(self, app: web.Application, intake: Intake) -> None:
        if not self.configured:
            return
        auth, adapter, references = self._parts()
        turn = TeamsTurn(intake, references=references, sender=self._teams_sender())
        endpoint = MessagesEndpoint(adapter, turn, auth_required=auth.enabled)
        app.router.add_post(MESSAGES_PATH, endpoint.handle)

    async def start(self, intake: Intake) -> None:
        return None  # Teams calls us; nothing to connect

    async def close(self) -> None:
        if self._fetcher is not None:
            await self._fetcher.aclose()
        if self._database is not None:
            await self._database.dispose()


def platform_plugin(settings: Settings) -> TeamsPlugin:
    return TeamsPlugin(settings)
