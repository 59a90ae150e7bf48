"""Shared pieces of the governance tests: a migrated database with workspaces, minted
API keys, and the admin API served on 127.0.0.1 (port 0) over real HTTP."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from adapters.testing import DictFetcher, InMemoryAdapter, memory_io
from bot.admin_api import admin_api_routes
from bot.admin_api.deps import BASE_PATH, AdminDeps
from bot.platforms import StaticPlugin
from bot.runtime import Runtime, open_runtime
from bot.serving import runtime_app
from core.access import Role
from core.blobs import BlobStore
from core.governance import api_keys
from core.governance.purge import DocumentIndex, Purger
from core.governance.rate_limit import KeyRateLimiter
from core.settings import Settings
from core.storage.db import Database
from core.storage.models import Dataset
from core.storage.repositories import datasets, workspaces


async def open_database(url: str) -> Database:
    database = Database(url)
    await database.migrate()
    return database


async def add_workspace(database: Database, workspace_id: str | None = None) -> str:
    workspace_id = workspace_id or f"test:{uuid.uuid4().hex[:10]}"
    async with database.session() as session:
        await workspaces.get_or_create(session, workspace_id, platform="test")
    return workspace_id


async def mint(
    database: Database,
    workspace_id: str,
    role: Role = Role.OWNER,
    *,
    expires_in: timedelta | None = timedelta(days=1),
    rate_limit: int | None = None,
) -> str:
    async with database.session() as session:
        minted = await api_keys.mint(
            session,
            workspace_id,
            role=role,
            expires_in=expires_in,
            actor="test",
            rate_limit_per_minute=rate_limit,
        )
    return minted.token


def key_id(token: str) -> str:
    return token.split("_")[1]


@dataclass
class AdminApi:
    """The admin API served over loopback, and a client that speaks to it."""

    url: str
    http: aiohttp.ClientSession
    deps: AdminDeps
    changed: list[str] = field(default_factory=list)

    async def call(
        self, method: str, path: str, token: str | None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method, f"{self.url}{BASE_PATH}{path}", headers=headers, **kwargs
        ) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()


@asynccontextmanager
async def serve_admin_api(
    database: Database,
    data_dir: Path,
    redis_url: str | None,
    *,
    prefix: str,
    index: DocumentIndex | None = None,
    blobs: BlobStore | None = None,
) -> AsyncIterator[AdminApi]:
    blobs = blobs or BlobStore.for_data_dir(data_dir)
    changed: list[str] = []

    async def members_changed(workspace: str) -> None:
        changed.append(workspace)

    deps = AdminDeps(
        database=database,
        blobs=blobs,
        purger=Purger(database=database, blobs=blobs, index=index),
        limiter=KeyRateLimiter(redis_url, prefix=prefix, default_per_minute=1000),
        default_retention_days=30,
        default_chain=["openai", "anthropic"],
        configured_providers=["openai", "anthropic"],
        members_changed=members_changed,
    )
    app = web.Application()
    admin_api_routes(deps)(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            yield AdminApi(f"http://127.0.0.1:{port}", http, deps, changed)
    finally:
        await runner.cleanup()


async def seed_dataset(
    database: Database, blobs: BlobStore, workspace_id: str, data: bytes, name: str = "tips.csv"
) -> Dataset:
    """An uploaded file as the worker stores it: bytes in the blob store, a dataset row."""
    blob_key = await blobs.put(workspace_id, "datasets", uuid.uuid4().hex, data=data)
    async with database.session() as session:
        return await datasets.add(
            session,
            workspace_id,
            channel_id="C1",
            thread_id="T1",
            name=name,
            file_name=name,
            content_hash=hashlib.sha256(data).hexdigest(),
            blob_key=blob_key,
            size_bytes=len(data),
            uploaded_by="U1",
        )


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[Runtime, str, DictFetcher, object]]:
    io, sender, fetcher = memory_io()
    plugin = StaticPlugin("test", platform_io=io)
    runtime = await open_runtime(settings, plugins=[plugin], mode="dev", charts=False)
    runner = web.AppRunner(runtime_app(runtime, [plugin]), access_log=None)
    try:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        yield runtime, url, fetcher, InMemoryAdapter(runtime.manager, sender)
    finally:
        await runner.cleanup()
        await runtime.close()
