"""Retention deletes expired data from the database, the blob store and Milvus
(milvus-lite, the real chunk store of core/retrieval), per workspace policy, and audits it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import plotly.express as px
import pytest
from governance.governance_support import add_workspace, seed_dataset
from redis.asyncio import Redis
from sqlalchemy import func, select

from bot.platforms import build_registry
from core.blobs import BlobStore
from core.governance.milvus_index import ChunkStoreIndex
from core.governance.policy import Retention
from core.governance.purge import Purger
from core.governance.retention import ACTOR, RetentionSweeper
from core.retrieval.store import ChunkRow, ChunkStore
from core.settings import Settings
from core.storage.db import Database
from core.storage.models import Dataset, Document, Job, Message, utcnow
from core.storage.repositories import audit, documents, jobs, messages, workspaces
from workers.context import open_worker_context
from workers.settings import worker_settings

TIPS = px.data.tips().to_csv(index=False).encode()


@pytest.fixture
async def chunks(tmp_path: Path) -> AsyncIterator[ChunkStore]:
    store = await ChunkStore.open(str(tmp_path / "milvus.db"), "retention_test", dimension=None)
    yield store
    await store.close()


async def seed_document(database: Database, store: ChunkStore, workspace: str) -> str:
    """A document as the library stores it: a catalogue row and its chunks in Milvus."""
    async with database.session() as session:
        row, _ = await documents.add(
            session, workspace, channel_id="C1", thread_id=None, file_name="notes.md",
            content_hash=uuid.uuid4().hex, size_bytes=100, chunk_count=3,
        )  # fmt: skip
    rows = [
        ChunkRow(
            id=f"{row.id}:{n}",
            workspace=workspace,
            channel="C1",
            thread="",
            document_id=row.id,
            file_name="notes.md",
            page=None,
            section=None,
            ordinal=n,
            uploaded_at=0,
            text=f"tips are higher on weekends, part {n}",
        )
        for n in range(3)
    ]
    await store.insert(rows, None)
    return row.id


async def seed_history(database: Database, workspace: str) -> None:
    async with database.session() as session:
        await messages.append(
            session, workspace, channel_id="C1", thread_id="T1", role="user", text="hi"
        )
        await jobs.create(session, workspace, f"job-{uuid.uuid4().hex}")
        created = await jobs.recent(session, workspace)
        for job in created:
            job.status = "succeeded"


async def count(database: Database, model: type, workspace: str) -> int:
    async with database.session() as session:
        stmt = select(func.count()).select_from(model).where(model.workspace_id == workspace)
        return int((await session.execute(stmt)).scalar_one())


async def in_milvus(store: ChunkStore, workspace: str) -> int:
    return await store.count(f'workspace == "{workspace}"')


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def test_expired_data_leaves_every_store(
    any_database: Database, tmp_path: Path, chunks: ChunkStore
) -> None:
    db = any_database
    blobs = BlobStore.for_data_dir(tmp_path)
    expiring, keeping, short_uploads = [await add_workspace(db) for _ in range(3)]
    async with db.session() as session:
        await workspaces.update_settings(
            session, keeping, {"governance": {"retention": Retention(
                uploads=0, datasets=0, documents=0, threads=0, results=0).model_dump()}},
        )  # fmt: skip
        await workspaces.update_settings(
            session, short_uploads, {"governance": {"retention": {"uploads": 5}}}
        )
    seeded = {}
    for ws in (expiring, keeping, short_uploads):
        dataset = await seed_dataset(db, blobs, ws, TIPS)
        doc = await seed_document(db, chunks, ws)
        await seed_history(db, ws)
        seeded[ws] = (dataset, doc)
    clock = Clock()
    sweeper = RetentionSweeper(
        database=db,
        purger=Purger(database=db, blobs=blobs, index=ChunkStoreIndex(chunks)),
        default_days=30,
        clock=clock,
    )

    clock.now += timedelta(days=10)  # within 30 days: only short_uploads' file goes
    report = await sweeper.sweep()
    assert report == {short_uploads: {"uploads": 1, "datasets": 0, "documents": 0,
                                      "threads": 0, "results": 0}}  # fmt: skip
    dataset, _ = seeded[short_uploads]
    assert not await blobs.exists(dataset.blob_key)
    async with db.session() as session:
        row = await session.get(Dataset, dataset.id)
        assert row is not None and row.deleted_at is not None  # nothing reads it again

    clock.now += timedelta(days=21)  # 31 days on: the default 30 days have passed
    report = await sweeper.sweep()
    assert report[expiring] == {
        "uploads": 1, "datasets": 1, "documents": 1, "threads": 1, "results": 1
    }  # fmt: skip
    assert keeping not in report
    dataset, _ = seeded[expiring]
    assert not await blobs.exists(dataset.blob_key)
    assert await in_milvus(chunks, expiring) == 0
    for model in (Dataset, Document, Message, Job):
        assert await count(db, model, expiring) == 0, model
    # 0 = keep: the other workspace still has everything, in every store.
    assert await blobs.exists(seeded[keeping][0].blob_key)
    assert await in_milvus(chunks, keeping) == 3
    for model in (Dataset, Document, Message, Job):
        assert await count(db, model, keeping) == 1, model
    async with db.session() as session:
        entries = await audit.recent(session, expiring, action="retention.deleted")
    assert [(e.actor_id, e.detail["documents"]) for e in entries] == [(ACTOR, 1)]


async def test_running_jobs_are_never_expired(database: Database, tmp_path: Path) -> None:
    ws = await add_workspace(database)
    async with database.session() as session:
        await jobs.create(session, ws, "job-running")
        await jobs.update_status(session, ws, "job-running", "running")
    clock = Clock()
    clock.now += timedelta(days=365)
    blobs = BlobStore.for_data_dir(tmp_path)
    sweeper = RetentionSweeper(
        database=database,
        purger=Purger(database=database, blobs=blobs, index=None),
        default_days=30,
        clock=clock,
    )
    await sweeper.sweep()
    assert await count(database, Job, ws) == 1


async def test_the_worker_runs_the_sweep_hourly(
    tmp_path: Path, redis_url: str, redis_client: Redis, redis_prefix: str
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        data_dir=tmp_path / "data",
        embedder="none",
        retention_days=1,
    )
    (job,) = worker_settings(settings, registry=build_registry([]))["cron_jobs"]
    assert (job.minute, job.unique) == (17, True)
    context = await open_worker_context(
        settings, registry=build_registry([]), redis=redis_client, charts=False
    )
    try:
        blobs = BlobStore.for_data_dir(settings.data_dir)
        ws = await add_workspace(context.database)
        old = await seed_dataset(context.database, blobs, ws, TIPS)
        new = await seed_dataset(context.database, blobs, ws, TIPS, name="new.csv")
        async with context.database.session() as session:
            row = await session.get(Dataset, old.id)
            assert row is not None
            row.created_at = utcnow() - timedelta(days=2)
        assert await job.coroutine({"worker": context}) == {"workspaces": 1}
    finally:
        await context.close()
    assert not await blobs.exists(old.blob_key)
    assert await blobs.exists(new.blob_key)
