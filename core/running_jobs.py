"""Which jobs are queued or running in a thread, in Redis, so ``stop`` can find them.

The conversation manager adds a job when it enqueues it and the worker removes it when
the job is over. Kept in Redis rather than the database because acceptance touches only
Redis (it must ack within the platform's deadline). Entries of a job that is never
removed (its worker died and ARQ gave up) expire with the key.

Key: ``<prefix>:{<workspace>}:running:<channel>:<thread>``, a sorted set of
``<job id> <actor id>`` by enqueue time (platform ids contain no spaces).
"""

from __future__ import annotations

import time
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import StorageError


class RunningJobs:
    def __init__(
        self, redis: Redis, *, prefix: str = "nexus", ttl: timedelta = timedelta(hours=1)
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = max(1, int(ttl.total_seconds()))

    def _key(self, workspace: str, channel: str, thread: str | None) -> str:
        return f"{self._prefix}:{{{workspace}}}:running:{channel}:{thread or ''}"

    async def add(
        self, workspace: str, channel: str, thread: str | None, job_id: str, actor: str
    ) -> None:
        key = self._key(workspace, channel, thread)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(key, {f"{job_id} {actor}": time.time()})
                pipe.expire(key, self._ttl)
                await pipe.execute()
        except RedisError as exc:
            raise StorageError(f"running-job registry failed: {exc}") from exc

    async def remove(
        self, workspace: str, channel: str, thread: str | None, job_id: str, actor: str
    ) -> None:
        try:
            await self._redis.zrem(self._key(workspace, channel, thread), f"{job_id} {actor}")
        except RedisError as exc:
            raise StorageError(f"running-job registry failed: {exc}") from exc

    async def listed(
        self, workspace: str, channel: str, thread: str | None
    ) -> list[tuple[str, str]]:
        """``(job id, actor id)`` of the jobs listed here, the newest first."""
        try:
            found = await self._redis.zrevrange(self._key(workspace, channel, thread), 0, -1)
        except RedisError as exc:
            raise StorageError(f"running-job registry failed: {exc}") from exc
        members = [m.decode() if isinstance(m, bytes) else str(m) for m in found]
        return [(job_id, actor) for job_id, _, actor in (m.rpartition(" ") for m in members)]
