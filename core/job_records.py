"""The durable side of a job: its row, usage ledger entry, thread history and refunds.

The conversation manager only touches Redis when it accepts an event, so the worker
writes these when it starts the job (in one transaction) and when it has posted the
reply (in another). Both are idempotent: a job that runs twice records once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import StorageError
from core.logging import get_logger
from core.queue import JobRequest
from core.quotas import Quotas, Reservation
from core.running_jobs import RunningJobs
from core.storage.db import Database
from core.storage.repositories import audit, jobs, messages, usage
from core.storage.repositories.jobs import FINISHED, JobStatus

log = get_logger("pipeline")


def settled_marker(marker: str | None) -> bool:
    """Whether a reply marker says there is nothing left to post (see core.delivery)."""
    return marker is not None and (marker == "stopped" or marker.startswith("posted:"))


class JobRecords:
    def __init__(self, *, database: Database, quotas: Quotas, running: RunningJobs) -> None:
        self._db = database
        self._quotas = quotas
        self._running = running
        # SQLite has one writer. Concurrent jobs of this process queue here, in order,
        # instead of inside SQLite, whose busy handler sleeps up to 100 ms per retry.
        self._sqlite_writes = asyncio.Lock() if database.dialect == "sqlite" else None

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with self._sqlite_writes or nullcontext(), self._db.session() as session:
            yield session

    async def begin(self, request: JobRequest, job_id: str, marker: str | None) -> bool:
        """Mark the job running and record what its first run must; False if there is
        nothing to do (the reply is out or stopped, per Redis or, durably, the row)."""
        inbound, ws = request.inbound, request.inbound.workspace
        async with self._writing() as session:
            row = await jobs.get(session, ws, job_id)
            if settled_marker(marker):
                if row is not None and row.status not in FINISHED:
                    # The reply went out (or was stopped) but the run died before the
                    # row said so: repair the row, post nothing.
                    final = "failed" if marker == "stopped" else str(marker)[len("posted:") :]
                    await jobs.update_status(session, ws, job_id, cast(JobStatus, final))
                return False
            if row is not None and row.status in FINISHED:
                return False  # the database remembers what Redis forgot
            if row is None:
                _, created = await jobs.create(
                    session,
                    ws,
                    job_id,
                    kind=request.kind,
                    channel_id=inbound.channel_id,
                    thread_id=inbound.thread_id,
                    actor_id=inbound.actor_id,
                )
                analyses = sum(r.amount for r in request.reservations if r.kind == "analysis")
                if created and analyses:
                    await usage.record(
                        session, ws, kind="analysis", amount=analyses,
                        user_id=inbound.actor_id, job_id=job_id,
                    )  # fmt: skip
            await jobs.update_status(session, ws, job_id, "running")
            if request.question:  # the question joins the thread's history, once
                await messages.append(
                    session, ws, channel_id=inbound.channel_id, thread_id=inbound.thread_id,
                    role="user", text=request.question, actor_id=inbound.actor_id,
                    job_id=job_id,
                )  # fmt: skip
        return True

    async def finish(
        self,
        request: JobRequest,
        job_id: str,
        status: JobStatus,
        error: str | None,
        *,
        answer: str | None = None,
        spec: dict[str, Any] | None = None,
    ) -> None:
        """Final status, and the posted ``answer`` as the thread's next turn."""
        inbound, ws = request.inbound, request.inbound.workspace
        async with self._writing() as session:
            if answer is not None:
                await messages.append(
                    session, ws, channel_id=inbound.channel_id, thread_id=inbound.thread_id,
                    role="assistant", text=answer, spec=spec, job_id=job_id,
                )  # fmt: skip
            await jobs.update_status(session, ws, job_id, status, error=error)
        scope = (ws, inbound.channel_id, inbound.thread_id)
        await self._running.remove(*scope, job_id, inbound.actor_id)

    async def refund(
        self, request: JobRequest, job_id: str, reservations: list[Reservation], why: BaseException
    ) -> bool:
        """Give back what this job counted; idempotent, so a re-run refunds once."""
        ws = request.inbound.workspace
        try:
            for reservation in reservations:
                await self._quotas.refund(reservation)
            async with self._writing() as session:
                changed = await usage.refund(session, ws, job_id=job_id)
                if changed:
                    await audit.append(
                        session,
                        ws,
                        action="quota.refunded",
                        target=job_id,
                        detail={"reason": type(why).__name__, "entries": changed},
                    )
        except StorageError as exc:
            log.error("refund_failed", error=str(exc))
            return False
        return True
