"""Analysis jobs: one row per accepted question, keyed by the ARQ job id."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Job, utcnow
from core.storage.repositories._sql import insert_ignore

JobStatus = Literal["queued", "running", "succeeded", "failed", "refused"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "refused"})


async def get(session: AsyncSession, workspace_id: str, job_id: str) -> Job | None:
    stmt = select(Job).where(Job.workspace_id == workspace_id, Job.id == job_id)
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar()


async def create(
    session: AsyncSession,
    workspace_id: str,
    job_id: str,
    *,
    kind: str = "analysis",
    channel_id: str | None = None,
    thread_id: str | None = None,
    actor_id: str | None = None,
) -> tuple[Job, bool]:
    """The job row, created ``queued`` unless it exists; True when this call created it.

    Redelivered events map to the same job id, so creating twice is normal.
    """
    created = await insert_ignore(
        session,
        Job,
        {
            "id": job_id,
            "workspace_id": workspace_id,
            "kind": kind,
            "channel_id": channel_id,
            "thread_id": thread_id,
            "actor_id": actor_id,
            "status": "queued",
            "attempts": 0,
            "created_at": utcnow(),
        },
        ["id"],
    )
    job = await get(session, workspace_id, job_id)
    if job is None:
        # The id exists under another workspace: never hand it out here.
        raise ValueError(f"job id {job_id!r} belongs to another workspace")
    return job, created


async def update_status(
    session: AsyncSession,
    workspace_id: str,
    job_id: str,
    status: JobStatus,
    *,
    error: str | None = None,
) -> Job | None:
    """Move the job to ``status``: ``running`` counts an attempt, finishing stamps the time."""
    job = await get(session, workspace_id, job_id)
    if job is None:
        return None
    now = utcnow()
    job.status = status
    if status == "running":
        job.attempts += 1
        job.started_at = now
        job.finished_at = None
        job.error = None
    elif status in FINISHED:
        job.finished_at = now
        job.error = error
    await session.flush()
    return job


async def recent(session: AsyncSession, workspace_id: str, *, limit: int = 50) -> list[Job]:
    stmt = (
        select(Job)
        .where(Job.workspace_id == workspace_id)
        .order_by(Job.created_at.desc(), Job.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
