"""Workspace isolation: random interleavings of writes to several workspaces that use
the same channel, thread and user ids; every read through every repository function
returns exactly that workspace's rows, and cross-workspace ids lead nowhere."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Role
from core.storage.db import Database
from core.storage.repositories import audit, datasets, jobs, members, messages, usage, workspaces
from core.storage.repositories.messages import MessageRole

CHANNELS = ["C1", "C2"]
THREADS: list[str | None] = [None, "t1", "t2"]
USERS = ["U1", "U2", "U3"]
Scope = tuple[str, str | None]


@dataclass
class Expected:
    """What one workspace should contain, kept in Python alongside the database."""

    datasets: dict[Scope, list[str]] = field(default_factory=lambda: defaultdict(list))
    dataset_ids: list[str] = field(default_factory=list)
    history: dict[Scope, list[str]] = field(default_factory=lambda: defaultdict(list))
    usage: list[tuple[str, float, str | None, bool]] = field(default_factory=list)
    audit: list[str] = field(default_factory=list)
    roles: dict[str, Role] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)


async def _step(
    db: Database, rng: random.Random, names: list[str], state: dict[str, Expected]
) -> None:
    ws = rng.choice(names)
    other = rng.choice([n for n in names if n != ws])
    exp, n = state[ws], rng.randrange(10**9)
    scope: Scope = (rng.choice(CHANNELS), rng.choice(THREADS))
    op = rng.choice(
        [
            "dataset",
            "dataset",
            "message",
            "usage",
            "audit",
            "role",
            "job",
            "forget",
            "refund",
            "cross",
        ]
    )
    async with db.session() as s:
        if op == "dataset":
            d = await datasets.add(
                s,
                ws,
                channel_id=scope[0],
                thread_id=scope[1],
                name=f"f{n}",
                file_name="same.csv",
                content_hash="same" * 16,
                blob_key=f"{ws}/d/{n}",
            )
            exp.datasets[scope].append(f"f{n}")
            exp.dataset_ids.append(d.id)
        elif op == "message":
            speaker: MessageRole = rng.choice(["user", "assistant"])
            await messages.append(
                s,
                ws,
                channel_id=scope[0],
                thread_id=scope[1],
                role=speaker,
                text=f"m{n}",
                actor_id=rng.choice(USERS),
            )
            exp.history[scope].append(f"m{n}")
        elif op == "usage":
            job = rng.choice([None, *exp.jobs])
            await usage.record(
                s, ws, kind="analysis", amount=n % 5 + 1, job_id=job, user_id=rng.choice(USERS)
            )
            exp.usage.append(("analysis", n % 5 + 1, job, False))
        elif op == "audit":
            await audit.append(s, ws, action=f"a{n}", actor_id=rng.choice(USERS))
            exp.audit.append(f"a{n}")
        elif op == "role":
            user, role = rng.choice(USERS), rng.choice(list(Role))
            await members.set_role(s, ws, user, role)
            exp.roles[user] = role
        elif op == "job":
            job_id = f"{ws}:job:{n}"
            await jobs.create(s, ws, job_id, channel_id=scope[0])
            exp.jobs.append(job_id)
        elif op == "forget":
            await datasets.forget_scope(s, ws, *scope)
            exp.datasets[scope] = []
        elif op == "refund" and exp.jobs:
            job = rng.choice(exp.jobs)
            await usage.refund(s, ws, job_id=job)
            exp.usage = [(k, a, j, r or j == job) for k, a, j, r in exp.usage]
        elif op == "cross":
            await _cross_workspace_attempts(s, ws, state[other])


async def _cross_workspace_attempts(s: AsyncSession, ws: str, victim: Expected) -> None:
    """Using another workspace's ids through this workspace finds and changes nothing."""
    for dataset_id in victim.dataset_ids:
        assert await datasets.get(s, ws, dataset_id) is None
    for job_id in victim.jobs:
        assert await jobs.get(s, ws, job_id) is None
        assert await jobs.update_status(s, ws, job_id, "failed", error="x") is None
        assert await usage.refund(s, ws, job_id=job_id) == 0


async def _check(db: Database, names: list[str], state: dict[str, Expected]) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    async with db.session() as s:
        for ws in names:
            exp = state[ws]
            for channel in CHANNELS:
                for thread in THREADS:
                    scope = (channel, thread)
                    found = await datasets.list_for_scope(s, ws, channel, thread)
                    assert [d.name for d in found] == exp.datasets[scope]
                    assert all(d.workspace_id == ws for d in found)
                    turns = await messages.history(s, ws, channel, thread, limit=10_000)
                    assert [m.text for m in turns] == exp.history[scope]
            totals = await usage.totals(s, ws, since=since)
            assert totals["analysis"] == sum(a for _, a, _, r in exp.usage if not r)
            assert [e.action for e in await audit.recent(s, ws, limit=10_000)] == exp.audit[::-1]
            roles = {m.user_id: Role(m.role) for m in await members.list_all(s, ws)}
            assert roles == exp.roles
            for user in USERS:
                assert await members.get_role(s, ws, user) == exp.roles.get(user)
            assert sorted(j.id for j in await jobs.recent(s, ws, limit=10_000)) == sorted(exp.jobs)
            for job_id in exp.jobs:
                job = await jobs.get(s, ws, job_id)
                assert job is not None and job.status == "queued"  # cross updates did nothing


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_interleavings_never_leak(database_url: str, seed: int) -> None:
    rng = random.Random(seed)
    db = Database(database_url)
    await db.migrate()
    names = [f"slack:T{seed}{i}" for i in range(3)]
    state = {name: Expected() for name in names}
    try:
        async with db.session() as s:
            for name in names:
                await workspaces.get_or_create(s, name, platform="slack")
        for step in range(150):
            await _step(db, rng, names, state)
            if step % 50 == 49:
                await _check(db, names, state)
        await _check(db, names, state)
    finally:
        await db.dispose()


async def test_job_ids_are_not_shared_across_workspaces(database_url: str) -> None:
    db = Database(database_url)
    await db.migrate()
    try:
        async with db.session() as s:
            for name in ("slack:A", "slack:B"):
                await workspaces.get_or_create(s, name, platform="slack")
            await jobs.create(s, "slack:A", "job-1")
        with pytest.raises(ValueError):
            async with db.session() as s:
                await jobs.create(s, "slack:B", "job-1")
    finally:
        await db.dispose()
