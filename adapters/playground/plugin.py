"""The playground as a ``bot.platforms`` plugin (``platform_plugin(settings)``).

Enabled by ``NEXUS_PLAYGROUND`` (``nexus dev`` bound to a loopback address sets it
when unset: the page has no login). The plugin owns
its store's Redis — a client of ``REDIS_URL``, or an in-process fakeredis in
``nexus dev`` without one, where web routes and worker share this very object — a
database handle for the usage view, and the blob store uploads go to.

When the app starts it records an installation of its workspace by the local user, so the
conversation manager's first-contact provisioning makes that user the owner, the
same way a Slack install makes its installer owner.
"""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from adapters.playground.convert import LOCAL_USER, PLATFORM, WORKSPACE_ID
from adapters.playground.io import PlaygroundFetcher, PlaygroundSender
from adapters.playground.routes import PlaygroundRoutes
from adapters.playground.store import PlaygroundStore
from core.blobs import BlobStore
from core.events import workspace_key
from core.ports import Intake, PlatformIO
from core.settings import IngestLimits, Settings
from core.storage.db import Database
from core.storage.repositories import installations


def _in_process_redis() -> Redis:
    import fakeredis  # only without REDIS_URL: one process (nexus dev) sees it

    redis: Redis = fakeredis.FakeAsyncRedis()
    return redis


class PlaygroundPlugin:
    platform = PLATFORM

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.configured = bool(settings.playground)
        self.status = (
            "playground: web chat at / (no login: local use only)"
            if self.configured
            else "playground: off (NEXUS_PLAYGROUND; `nexus dev` on loopback turns it on)"
        )
        self._redis: Redis | None = None
        self._store: PlaygroundStore | None = None
        self._database: Database | None = None
        self._blobs = BlobStore.for_data_dir(settings.data_dir)
        self._limits = IngestLimits()

    def store(self) -> PlaygroundStore:
        if self._store is None:
            settings = self._settings
            redis_url = settings.redis_url
            self._redis = Redis.from_url(redis_url) if redis_url else _in_process_redis()
            self._store = PlaygroundStore(
                self._redis, prefix=settings.redis_prefix, workspace=self.workspace
            )
        return self._store

    @property
    def workspace(self) -> str:
        return workspace_key(PLATFORM, WORKSPACE_ID)

    def _db(self) -> Database:
        if self._database is None:
            self._database = Database(self._settings.resolved_database_url)
        return self._database

    def io(self) -> PlatformIO:
        return PlatformIO(
            fetcher=PlaygroundFetcher(self._blobs, self._limits),
            sender=PlaygroundSender(self.store()),
        )

    def install_routes(self, app: web.Application, intake: Intake) -> None:
        PlaygroundRoutes(
            intake=intake,
            store=self.store(),
            sender=PlaygroundSender(self.store()),
            blobs=self._blobs,
            database=self._db(),
            limits=self._limits,
            workspace_id=WORKSPACE_ID,
        ).mount(app)
        # Before the socket listens (the runtime has migrated by now), so no message
        # can provision the workspace ahead of its owner's installation.
        app.on_startup.append(self._install)

    async def _install(self, _app: web.Application) -> None:
        async with self._db().session() as session:
            if await installations.get(session, self.workspace) is None:
                await installations.save(
                    session, self.workspace, platform=PLATFORM, data={}, installed_by=LOCAL_USER
                )

    async def start(self, intake: Intake) -> None:
        return None

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()  # type: ignore[attr-defined]
        if self._database is not None:
            await self._database.dispose()


def platform_plugin(settings: Settings) -> PlaygroundPlugin:
    return PlaygroundPlugin(settings)
