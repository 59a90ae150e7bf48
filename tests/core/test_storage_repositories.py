"""Repository round trips on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from core.access import Role
from core.datasets.models import ColumnProfile, DatasetProfile
from core.storage.db import Database
from core.storage.repositories import (
    audit,
    datasets,
    installations,
    jobs,
    members,
    messages,
    usage,
    workspaces,
)

WS = "slack:T1"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    async with database.session() as session:
        await workspaces.get_or_create(session, WS, platform="slack", name="Acme")
    try:
        yield database
    finally:
        await database.dispose()


async def test_workspace_get_or_create_and_settings(db: Database) -> None:
    async with db.session() as s:
        ws, created = await workspaces.get_or_create(s, WS, platform="slack")
        assert not created and ws.name == "Acme" and ws.settings == {}
        await workspaces.update_settings(s, WS, {"default_role": "viewer", "x": 1})
        await workspaces.update_settings(s, WS, {"x": None})
    async with db.session() as s:
        ws2 = await workspaces.get(s, WS)
        assert ws2 is not None and ws2.settings == {"default_role": "viewer"}
        assert ws2.created_at.tzinfo is not None
        assert await workspaces.get(s, "slack:nope") is None


async def test_concurrent_first_contact_creates_one_workspace(db: Database) -> None:
    async def first_contact() -> bool:
        async with db.session() as s:
            _, created = await workspaces.get_or_create(s, "discord:G9", platform="discord")
            return created

    results = await asyncio.gather(*(first_contact() for _ in range(8)))
    assert sum(results) == 1


async def test_members_and_roles(db: Database) -> None:
    async with db.session() as s:
        assert await members.get_role(s, WS, "U1") is None
        role, created = await members.ensure(s, WS, "U1", Role.ANALYST)
        assert (role, created) == (Role.ANALYST, True)
        role, created = await members.ensure(s, WS, "U1", Role.VIEWER)
        assert (role, created) == (Role.ANALYST, False)  # existing role kept
        await members.set_role(s, WS, "U1", Role.OWNER)
        await members.set_role(s, WS, "U2", Role.VIEWER)
    async with db.session() as s:
        assert await members.get_role(s, WS, "U1") is Role.OWNER
        assert [m.user_id for m in await members.list_all(s, WS)] == ["U1", "U2"]
        assert await members.count_with_role(s, WS, Role.OWNER) == 1
        assert await members.remove(s, WS, "U2")
        assert not await members.remove(s, WS, "U2")


async def test_channel_policy(db: Database) -> None:
    async with db.session() as s:
        assert await workspaces.get_channel_policy(s, WS, "C1") is None
        await workspaces.set_channel_policy(s, WS, "C1", enabled=False, settings={"a": 1})
        policy = await workspaces.set_channel_policy(s, WS, "C1", settings={"a": 2})
        assert policy.enabled and policy.settings == {"a": 2}


def _profile() -> DatasetProfile:
    return DatasetProfile(
        name="tips.csv",
        content_hash="h" * 64,
        rows=244,
        columns=[
            ColumnProfile(name="tip", kind="numeric", dtype="float64", null_rate=0, distinct=123)
        ],
        sample_rows=[{"tip": 1.01}],
    )


async def test_datasets_by_scope(db: Database) -> None:
    async with db.session() as s:
        first = await datasets.add(
            s,
            WS,
            channel_id="C1",
            thread_id="t1",
            name="tips.csv",
            file_name="tips.csv",
            content_hash="h" * 64,
            blob_key=f"{WS}/datasets/a",
            size_bytes=5 * 1024**3,
            profile=_profile(),
            uploaded_by="U1",
        )
        await datasets.add(
            s,
            WS,
            channel_id="C1",
            thread_id="t1",
            name="b",
            file_name="b.csv",
            content_hash="b" * 64,
            blob_key=f"{WS}/datasets/b",
        )
        await datasets.add(
            s,
            WS,
            channel_id="C1",
            thread_id=None,
            name="root",
            file_name="root.csv",
            content_hash="r" * 64,
            blob_key=f"{WS}/datasets/r",
        )
        with pytest.raises(ValueError):
            await datasets.add(
                s,
                WS,
                channel_id="C1",
                thread_id=None,
                name="x",
                file_name="x",
                content_hash="x",
                blob_key="slack:OTHER/datasets/x",
            )
    async with db.session() as s:
        in_thread = await datasets.list_for_scope(s, WS, "C1", "t1")
        assert [d.name for d in in_thread] == ["tips.csv", "b"]
        assert in_thread[0].size_bytes == 5 * 1024**3
        assert datasets.profile_of(in_thread[0]) == _profile()
        assert [d.name for d in await datasets.list_for_scope(s, WS, "C1", None)] == ["root"]
        assert await datasets.list_for_scope(s, WS, "C2", "t1") == []
        forgotten = await datasets.forget_scope(s, WS, "C1", "t1")
        assert {d.blob_key for d in forgotten} == {f"{WS}/datasets/a", f"{WS}/datasets/b"}
    async with db.session() as s:
        assert await datasets.list_for_scope(s, WS, "C1", "t1") == []
        assert await datasets.get(s, WS, first.id) is None
        assert len(await datasets.list_for_scope(s, WS, "C1", None)) == 1


async def test_messages_and_history(db: Database) -> None:
    async with db.session() as s:
        for i in range(5):
            await messages.append(
                s, WS, channel_id="C1", thread_id="t1", role="user", text=f"q{i}", actor_id="U1"
            )
            await messages.append(
                s,
                WS,
                channel_id="C1",
                thread_id="t1",
                role="assistant",
                text=f"a{i}",
                spec={"operation": "aggregate"},
                job_id=f"job{i}",
            )
        # A job that runs twice records its answer once.
        again = await messages.append(
            s, WS, channel_id="C1", thread_id="t1", role="assistant", text="dup", job_id="job4"
        )
        assert again.text == "a4"
        await messages.append(s, WS, channel_id="C1", thread_id=None, role="user", text="root")
    async with db.session() as s:
        turns = await messages.history(s, WS, "C1", "t1", limit=4)
        assert [m.text for m in turns] == ["q3", "a3", "q4", "a4"]
        assert turns[1].spec == {"operation": "aggregate"}
        assert [m.text for m in await messages.history(s, WS, "C1", None)] == ["root"]
        assert await messages.history(s, WS, "C9", "t1") == []


async def test_jobs_lifecycle(db: Database) -> None:
    async with db.session() as s:
        job, created = await jobs.create(s, WS, "job-1", channel_id="C1", actor_id="U1")
        assert created and job.status == "queued"
        _, created = await jobs.create(s, WS, "job-1")  # redelivery
        assert not created
        running = await jobs.update_status(s, WS, "job-1", "running")
        assert running is not None and running.attempts == 1 and running.started_at
        failed = await jobs.update_status(s, WS, "job-1", "failed", error="sandbox timeout")
        assert failed is not None and failed.finished_at and failed.error == "sandbox timeout"
        rerun = await jobs.update_status(s, WS, "job-1", "running")
        assert rerun is not None and rerun.attempts == 2 and rerun.error is None
        assert await jobs.update_status(s, WS, "missing", "running") is None
    async with db.session() as s:
        stored = await jobs.get(s, WS, "job-1")
        assert stored is not None and stored.status == "running"
        assert [j.id for j in await jobs.recent(s, WS)] == ["job-1"]


async def test_usage_ledger_record_refund_totals(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.session() as s:
        await usage.record(s, WS, kind="analysis", amount=1, user_id="U1", job_id="j1")
        await usage.record(s, WS, kind="cost_usd", amount=0.25, user_id="U1", job_id="j1")
        await usage.record(s, WS, kind="analysis", amount=1, user_id="U2", job_id="j2")
        await usage.record(
            s, WS, kind="analysis", amount=1, user_id="U2", at=now - timedelta(days=2)
        )
        with pytest.raises(ValueError):
            await usage.record(s, WS, kind="bogus", amount=1)  # type: ignore[arg-type]
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with db.session() as s:
        totals = await usage.totals(s, WS, since=today)
        assert totals["analysis"] == 2 and totals["cost_usd"] == pytest.approx(0.25)
        assert totals["tokens_in"] == 0
        assert (await usage.totals(s, WS, since=today, user_id="U2"))["analysis"] == 1
        assert await usage.refund(s, WS, job_id="j1") == 2
        assert await usage.refund(s, WS, job_id="j1") == 0  # idempotent
        totals = await usage.totals(s, WS, since=today)
        assert totals["analysis"] == 1 and totals["cost_usd"] == 0
        all_time = await usage.totals(s, WS, since=now - timedelta(days=30))
        assert all_time["analysis"] == 2


async def test_audit_log(db: Database) -> None:
    async with db.session() as s:
        await audit.append(
            s, WS, action="role.set", actor_id="U1", target="U2", detail={"role": "admin"}
        )
        await audit.append(
            s, WS, action="access.denied", actor_id="U3", detail={"permission": "ask"}
        )
    async with db.session() as s:
        entries = await audit.recent(s, WS)
        assert [e.action for e in entries] == ["access.denied", "role.set"]
        assert entries[1].detail == {"role": "admin"}
        assert [e.target for e in await audit.recent(s, WS, action="role.set")] == ["U2"]


async def test_installations_and_references(db: Database) -> None:
    async with db.session() as s:
        assert await installations.get(s, WS) is None
        await installations.save(
            s, WS, platform="slack", data={"bot_token": "xoxb-1"}, installed_by="U1"
        )
        await installations.save(s, WS, platform="slack", data={"bot_token": "xoxb-2"})
        await installations.save_reference(
            s, "teams:tid", "19:abc;messageid=1", platform="teams", data={"serviceUrl": "http://x"}
        )
    async with db.session() as s:
        inst = await installations.get(s, WS)
        assert inst is not None and inst.data == {"bot_token": "xoxb-2"}
        ref = await installations.get_reference(s, "teams:tid", "19:abc;messageid=1")
        assert ref is not None and ref.data == {"serviceUrl": "http://x"}
        assert await installations.remove(s, WS)


async def test_deleting_a_workspace_cascades(db: Database) -> None:
    async with db.session() as s:
        await members.set_role(s, WS, "U1", Role.OWNER)
        await messages.append(s, WS, channel_id="C1", thread_id=None, role="user", text="q")
        await usage.record(s, WS, kind="analysis", amount=1)
        ws = await workspaces.get(s, WS)
        assert ws is not None
        await s.delete(ws)
    async with db.session() as s:
        assert await members.list_all(s, WS) == []
        assert await messages.history(s, WS, "C1", None) == []
