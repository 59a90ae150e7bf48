"""The job queue between the conversation manager and the workers.

Two implementations of one :class:`JobQueue` protocol run the *same* job functions
(``workers/jobs.py``):

- :class:`ArqQueue` — production: ARQ over Redis, a JSON serializer (the default,
  pickle, would let anyone who can write to Redis run code in the workers) and a job id
  derived from the event's dedupe key, so a redelivered event can never queue twice.
- :class:`InProcessQueue` — ``nexus dev`` without a Redis server: asyncio tasks in the
  web process, with ARQ's semantics where they matter (``Retry`` with backoff,
  ``max_tries``, a per-job timeout, abort, one run per job id at a time).

A job's argument is one :class:`JobRequest`, JSON all the way down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from arq.connections import ArqRedis
from arq.jobs import Job, SerializationError
from arq.worker import Retry
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from core.errors import StorageError
from core.events import Inbound
from core.logging import get_logger
from core.quotas import Reservation

log = get_logger("queue")

JobKind = Literal["answer_question", "ingest_upload"]
"""The job functions, by the name workers register them under."""

JobFunction = Callable[[dict[str, Any], dict[str, Any]], Awaitable[Any]]
"""``async def job(ctx, request_json)``: ARQ's calling convention."""


class JobRequest(BaseModel):
    """Everything a worker needs to answer one inbound message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: JobKind
    inbound: Inbound
    question: str = ""
    """The message text without the bot's mention (empty for a bare upload)."""
    reservations: list[Reservation] = Field(default_factory=list)
    """Quota counted at acceptance; refunded if the job fails through no fault of the user."""


def job_id_for(inbound: Inbound, *, prefix: str = "nexus") -> str:
    """The job id of an event: a hash of its (channel, message id) dedupe key.

    The message key, not the event id: Slack's ``app_mention`` and ``message`` for one
    tagged message carry different event ids but must be one job.
    """
    return f"{prefix}:job:{inbound.correlation_id}"


def _json_default(value: object) -> object:
    # ARQ stores a failed job's exception as its result; keep it readable, not pickled.
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def serialize(value: Any) -> bytes:
    """ARQ ``job_serializer``: JSON, never pickle."""
    return json.dumps(value, default=_json_default, separators=(",", ":")).encode()


def deserialize(data: bytes) -> Any:
    """ARQ ``job_deserializer``."""
    return json.loads(data)


class JobQueue(Protocol):
    async def enqueue(self, request: JobRequest, job_id: str) -> bool:
        """Queue the job; False if a job with this id is already queued or kept.

        Raises :class:`StorageError` if the queue is unreachable.
        """
        ...

    async def abort(self, job_id: str) -> None:
        """Cancel the job if it is queued or running (``stop``)."""
        ...

    async def ping(self) -> None:
        """Raise :class:`StorageError` unless the queue is reachable (``/readyz``)."""
        ...

    async def depth(self) -> int:
        """Jobs queued or running (``nexus_queue_depth``; KEDA scales workers on it)."""
        ...

    async def close(self) -> None: ...


def arq_redis(url: str, *, queue_name: str, connect_timeout: float = 2.0) -> ArqRedis:
    """An ArqRedis with the JSON serializer; connects lazily (no ping at creation)."""
    pool: ConnectionPool = ConnectionPool.from_url(url, socket_connect_timeout=connect_timeout)
    return ArqRedis(
        pool,
        job_serializer=serialize,
        job_deserializer=deserialize,
        default_queue_name=queue_name,
    )


class ArqQueue:
    """Jobs in Redis, run by ``nexus worker`` processes (``workers/settings.py``)."""

    def __init__(self, redis: ArqRedis, *, queue_name: str) -> None:
        self._redis = redis
        self.queue_name = queue_name

    async def enqueue(self, request: JobRequest, job_id: str) -> bool:
        try:
            job = await self._redis.enqueue_job(
                request.kind,
                request.model_dump(mode="json"),
                _job_id=job_id,
                _queue_name=self.queue_name,
            )
        except (RedisError, OSError) as exc:
            raise StorageError(f"enqueue failed: {exc}") from exc
        return job is not None

    async def abort(self, job_id: str) -> None:
        job = Job(job_id, self._redis, _queue_name=self.queue_name, _deserializer=deserialize)
        try:
            # abort() marks the job and then waits for its result; we only mark it (the
            # worker cancels it on its next poll) and look once.
            await job.abort(timeout=0, poll_delay=0.01)
        except (TimeoutError, SerializationError):
            pass
        except (RedisError, OSError) as exc:
            raise StorageError(f"abort failed: {exc}") from exc

    async def ping(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            raise StorageError(f"redis unreachable: {exc}") from exc

    async def depth(self) -> int:
        try:
            return int(await self._redis.zcard(self.queue_name))
        except (RedisError, OSError) as exc:
            raise StorageError(f"redis unreachable: {exc}") from exc

    async def close(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]


class InProcessQueue:
    """Jobs as asyncio tasks in this process, for ``nexus dev`` with no Redis server.

    Nothing survives a restart; that is the price of running without Redis.
    """

    def __init__(
        self,
        functions: Mapping[str, JobFunction],
        *,
        job_timeout: float,
        max_tries: int,
        concurrency: int = 4,
    ) -> None:
        self._functions = dict(functions)
        self._timeout = job_timeout
        self._max_tries = max_tries
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._aborted: set[str] = set()
        self.ctx: dict[str, Any] = {}
        """Shared job context (``services``), set by the composition root before use."""

    async def enqueue(self, request: JobRequest, job_id: str) -> bool:
        if job_id in self._tasks:
            return False
        function = self._functions[request.kind]
        payload = request.model_dump(mode="json")
        task = asyncio.create_task(self._run(function, payload, job_id), name=job_id)
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))
        return True

    async def _run(self, function: JobFunction, payload: dict[str, Any], job_id: str) -> None:
        async with self._slots:
            for job_try in range(1, self._max_tries + 1):
                ctx = {**self.ctx, "job_id": job_id, "job_try": job_try}
                try:
                    await asyncio.wait_for(function(ctx, payload), self._timeout)
                    return
                except Retry as retry:
                    await asyncio.sleep((retry.defer_score or 0) / 1000)
                except asyncio.CancelledError:
                    if job_id in self._aborted:
                        self._aborted.discard(job_id)
                        return
                    raise
                except Exception:
                    log.exception("job_failed", job_id=job_id)
                    return
            log.warning("job_max_tries_exceeded", job_id=job_id)

    async def abort(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            self._aborted.add(job_id)
            task.cancel()

    async def join(self) -> None:
        """Wait until every queued job has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def ping(self) -> None:
        return None

    async def depth(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
