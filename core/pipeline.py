"""One job from start to posted reply: the same code under ARQ and in ``nexus dev``.

:meth:`Pipeline.run` wraps :class:`core.answering.Answerer` with what makes a job
safe to run more than once:

1. skip if the job's reply is already settled (posted, or suppressed by ``stop``);
   otherwise record its start (:class:`core.job_records.JobRecords`);
2. do the work under a deadline shorter than ARQ's ``job_timeout``, so a slow job
   still tells the user instead of being killed silently;
3. on a transient failure (network, storage) raise ARQ's ``Retry`` with backoff
   while tries remain; on the last try, or any other failure, compose a failure
   reply and refund the quota unless the user was at fault (bad input);
4. post the reply through the :class:`core.delivery.ReplyLedger`, exactly once, then
   record the outcome and the answer in the thread's history.

Cancellation (``stop``, worker shutdown) posts nothing: ``stop`` already answered,
and a shutdown leaves the job to ARQ's re-run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from aiohttp import ClientError
from arq.worker import Retry

from core.answering import Answerer, Work
from core.delivery import ReplyLedger
from core.errors import (
    AccessDeniedError,
    InputError,
    QuestionNotUnderstoodError,
    QuotaExceededError,
    StorageError,
    UserFacingError,
)
from core.events import FileRef
from core.job_records import JobRecords
from core.logging import bind_inbound, get_logger
from core.metrics import NexusMetrics
from core.ports import PlatformIO, PlatformRegistry
from core.queue import JobRequest
from core.quotas import Reservation
from core.replies import failure_reply
from core.storage.repositories.jobs import JobStatus

log = get_logger("pipeline")


def is_transient(error: BaseException) -> bool:
    """Worth another try later: the network or a store hiccuped (timeouts included)."""
    return isinstance(error, OSError | StorageError | ClientError) and not isinstance(
        error, UserFacingError
    )


def user_at_fault(error: BaseException) -> bool:
    """Bad input or no permission: the quota stays spent. (Not being understood is ours.)"""
    if isinstance(error, QuestionNotUnderstoodError):
        return False
    return isinstance(error, InputError | AccessDeniedError)


class Pipeline:
    """Runs jobs with the worker's shared objects; one instance per process."""

    def __init__(
        self,
        *,
        records: JobRecords,
        ledger: ReplyLedger,
        registry: PlatformRegistry,
        answerer: Answerer,
        max_tries: int,
        retry_backoff: float,
        deadline: float,
        metrics: NexusMetrics | None = None,
    ) -> None:
        self._records = records
        self._ledger = ledger
        self._registry = registry
        self._answerer = answerer
        self._max_tries = max_tries
        self._backoff = retry_backoff
        self._deadline = deadline
        self._metrics = metrics or NexusMetrics()

    async def run(self, request: JobRequest, *, job_id: str, attempt: int) -> dict[str, Any]:
        """Run the job; returns a small JSON-safe summary (ARQ keeps it as the result)."""
        bind_inbound(request.inbound)
        started = time.perf_counter()
        io = self._registry.get(request.inbound.platform)
        if not await self._records.begin(request, job_id, await self._ledger.state(job_id)):
            self._metrics.replies.labels("skipped").inc()
            return {"status": "skipped"}
        reserved: list[Reservation] = []
        status: JobStatus = "succeeded"
        error: str | None = None
        try:
            work = await self._attempt(request, job_id, io, reserved)
        except asyncio.CancelledError:
            log.info("job_cancelled", attempt=attempt)
            raise
        except Exception as exc:
            if is_transient(exc) and attempt < self._max_tries:
                log.warning("job_retry", attempt=attempt, error=type(exc).__name__)
                await self._progress(io, request, job_id, "A temporary problem; trying again…")
                raise Retry(defer=self._backoff * 2 ** (attempt - 1)) from exc
            status, error = "failed", type(exc).__name__
            work = await self._fail(request, job_id, exc, reserved)
        delivering = time.perf_counter()
        await self._deliver(request, job_id, io, work, (status, error), attempt, reserved)
        deliver_ms = (time.perf_counter() - delivering) * 1000
        self._metrics.observe_stages({**work.timings_ms, "deliver": deliver_ms})
        self._metrics.jobs.labels(request.kind, status).inc()
        self._metrics.job_seconds.labels(request.kind).observe(time.perf_counter() - started)
        return {"status": status}

    async def _attempt(
        self, request: JobRequest, job_id: str, io: PlatformIO, reserved: list[Reservation]
    ) -> Work:
        conversation = request.inbound.conversation()

        async def fetch(ref: FileRef) -> bytes:
            return await io.fetcher.fetch(ref, conversation)

        async def progress(text: str) -> None:
            await self._progress(io, request, job_id, text)

        deadline = asyncio.timeout(self._deadline)
        try:
            async with deadline:
                return await self._answerer.work(
                    request, job_id=job_id, fetch=fetch, progress=progress, reserved=reserved
                )
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            raise UserFacingError(
                f"That took longer than {self._deadline:.0f} s, so I stopped working on it. "
                "Try a narrower question or a smaller file.",
                detail="job deadline exceeded",
            ) from exc

    async def _progress(self, io: PlatformIO, request: JobRequest, job_id: str, text: str) -> None:
        try:
            await io.sender.progress(request.inbound.conversation(), job_id, text)
        except Exception as exc:  # a status line is a courtesy; never fail the job for it
            log.warning("progress_failed", error=type(exc).__name__)

    async def _fail(
        self, request: JobRequest, job_id: str, error: Exception, reserved: list[Reservation]
    ) -> Work:
        if isinstance(error, QuotaExceededError):
            self._metrics.quota_refusals.labels(error.limit).inc()
        if isinstance(error, UserFacingError):
            log.info("job_refused", error=type(error).__name__)  # its text may quote data
        else:
            log.error("job_failed", error=type(error).__name__, exc_info=error)
        refunded = False
        if not user_at_fault(error):
            reservations = [*request.reservations, *reserved]
            refunded = await self._records.refund(request, job_id, reservations, error)
        conversation = request.inbound.conversation()
        return Work(failure_reply(conversation, error, key=job_id, refunded=refunded))

    async def _deliver(
        self,
        request: JobRequest,
        job_id: str,
        io: PlatformIO,
        work: Work,
        outcome: tuple[JobStatus, str | None],
        attempt: int,
        reserved: list[Reservation],
    ) -> None:
        status, error = outcome
        claim = await self._ledger.begin(job_id, uuid.uuid4().hex)
        if claim == "settled":  # stopped while we worked, or posted by another run
            self._metrics.replies.labels("skipped").inc()
            return
        if claim == "takeover":
            log.warning("reply_resend_after_crash")
        try:
            await io.sender.send(work.reply)
        except Exception as exc:
            if is_transient(exc) and attempt < self._max_tries:
                log.warning("reply_send_retry", attempt=attempt, error=type(exc).__name__)
                raise Retry(defer=self._backoff * 2 ** (attempt - 1)) from exc
            log.error("reply_send_failed", error=type(exc).__name__, exc_info=exc)
            await self._records.refund(request, job_id, [*request.reservations, *reserved], exc)
            await self._records.finish(request, job_id, "failed", f"reply not posted: {exc!r}")
            return
        await self._ledger.complete(job_id, status)
        self._metrics.replies.labels("resent" if claim == "takeover" else "posted").inc()
        await self._records.finish(
            request, job_id, status, error, answer=work.reply.text, spec=work.spec
        )
