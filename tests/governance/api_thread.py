"""The admin API served from a background thread's event loop, for synchronous clients
(schemathesis drives ``requests``): a migrated SQLite database with one workspace, an
owner key, and a little data behind every endpoint."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

import plotly.express as px
from governance.governance_support import (
    AdminApi,
    add_workspace,
    mint,
    open_database,
    seed_dataset,
    serve_admin_api,
)

from core.access import Role
from core.storage.repositories import audit, usage


@dataclass
class Served:
    url: str
    workspace: str
    token: str


class ApiThread:
    def __init__(self, data_dir: Path, redis_url: str, prefix: str) -> None:
        self._data_dir = data_dir
        self._redis_url = redis_url
        self._prefix = prefix
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="admin-api", daemon=True)
        self.served: Served | None = None

    def __enter__(self) -> Served:
        self._thread.start()
        if not self._ready.wait(60) or self.served is None:
            raise RuntimeError(f"the admin API did not start: {self._failure!r}")
        return self.served

    def __exit__(self, *_exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported by __enter__
            self._failure = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        database = await open_database(f"sqlite+aiosqlite:///{self._data_dir / 'fuzz.db'}")
        try:
            async with serve_admin_api(
                database, self._data_dir, self._redis_url, prefix=self._prefix
            ) as api:
                workspace = await self._seed(api)
                token = await mint(database, workspace, Role.OWNER, rate_limit=1_000_000)
                self.served = Served(api.url, workspace, token)
                self._ready.set()
                await self._stop.wait()
        finally:
            await database.dispose()

    @staticmethod
    async def _seed(api: AdminApi) -> str:
        database = api.deps.database
        workspace = await add_workspace(database)
        await seed_dataset(database, api.deps.blobs, workspace, px.data.iris().to_csv().encode())
        async with database.session() as session:
            await usage.record(session, workspace, kind="cost_usd", amount=0.25)
            await audit.append(session, workspace, action="role.set", target="U1")
        return workspace
