"""The Slack adapter as a ``bot.platforms`` plugin (``platform_plugin(settings)``).

The plugin owns what only Slack needs: a database engine for the installation store
(multi-workspace mode only), a Redis client for thread memory and OAuth states (when
``REDIS_URL`` is set; otherwise in-process memory and signed states), and the blob
store to read large reply images. ``nexus worker`` calls :meth:`SlackPlugin.io`;
``nexus serve``/``dev`` also call ``install_routes``, ``start`` and ``close``.
"""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from adapters.slack.factory import (
    SlackAdapter,
    SlackIO,
    build_slack_adapter,
    build_slack_io,
    describe,
    missing_credentials,
    uses_oauth,
)
from core.blobs import BlobStore
from core.ports import Intake, PlatformIO
from core.settings import Settings
from core.storage.db import Database


class SlackPlugin:
    platform = "slack"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        reason = missing_credentials(settings)
        self.configured = reason is None
        self.status = describe(settings) if reason is None else f"slack: not configured ({reason})"
        self._database: Database | None = None
        self._redis: Redis | None = None
        self._io: SlackIO | None = None
        self._adapter: SlackAdapter | None = None

    def io(self) -> PlatformIO:
        return self._slack_io().platform_io

    def install_routes(self, app: web.Application, intake: Intake) -> None:
        self._build(intake).mount(app)

    async def start(self, intake: Intake) -> None:
        await self._build(intake).start()

    async def close(self) -> None:
        if self._adapter is not None:
            await self._adapter.close()  # closes the shared I/O too
        elif self._io is not None:
            await self._io.close()
        if self._redis is not None:
            await self._redis.aclose()  # type: ignore[attr-defined]
        if self._database is not None:
            await self._database.dispose()

    def _slack_io(self) -> SlackIO:
        if self._io is None:
            settings = self._settings
            if uses_oauth(settings):
                self._database = Database(settings.resolved_database_url)
            blobs = BlobStore.for_data_dir(settings.data_dir)
            self._io = build_slack_io(settings, database=self._database, blobs=blobs)
        return self._io

    def _build(self, intake: Intake) -> SlackAdapter:
        if self._adapter is None:
            settings = self._settings
            io = self._slack_io()
            if settings.redis_url:
                self._redis = Redis.from_url(settings.redis_url)
            self._adapter = build_slack_adapter(
                settings,
                intake,
                database=self._database,
                redis=self._redis,
                redis_prefix=settings.redis_prefix,
                io=io,
            )
        return self._adapter


def platform_plugin(settings: Settings) -> SlackPlugin:
    return SlackPlugin(settings)
