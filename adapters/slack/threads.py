"""What the adapter remembers about Slack threads, between events.

Two facts, both per (team, channel, thread root):

- **answered**: the core enqueued an addressed message here, so later replies that
  tag nobody else are follow-ups and need no fresh @mention. A refusal does not
  count (people chatting under a refused question would be refused again and again).
- **pending uploads**: files shared here *without* addressing Nexus. The core
  ignores messages not addressed to it, so the adapter keeps the file references
  and attaches them to the next addressed message in the same thread ("drop a
  file, then @mention Nexus and ask"). They are given back if that message is not
  enqueued (refused, failed), so the next asker gets them.

Why not the core's conversation records: Slack sends every message of every
channel Nexus is in, and this runs on the ack path. One Redis key per thread is one
round trip, shared by every web process, and expires on its own after ``ttl``; the
database is never touched for chatter that is not for Nexus. Without Redis
(``nexus dev``) a bounded in-process map does the same for the one process there is.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta
from typing import Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import StorageError
from core.events import FileRef

_V = TypeVar("_V")

MAX_PENDING = 20
"""Uploads kept per thread; older ones drop off."""


class ThreadMemory(Protocol):
    async def remember_answered(self, team: str, channel: str, thread: str) -> None: ...

    async def is_answered(self, team: str, channel: str, thread: str) -> bool: ...

    async def add_uploads(
        self, team: str, channel: str, thread: str, files: list[FileRef]
    ) -> None: ...

    async def take_uploads(self, team: str, channel: str, thread: str) -> list[FileRef]: ...


class RedisThreadMemory:
    def __init__(
        self,
        redis: Redis,
        *,
        answered_ttl: timedelta = timedelta(days=7),
        uploads_ttl: timedelta = timedelta(days=1),
        prefix: str = "nexus",
    ) -> None:
        self._redis = redis
        self._answered_ttl = int(answered_ttl.total_seconds())
        self._uploads_ttl = int(uploads_ttl.total_seconds())
        self._prefix = f"{prefix}:slack:"

    def _key(self, kind: str, team: str, channel: str, thread: str) -> str:
        return f"{self._prefix}{kind}:{team}:{channel}:{thread}"

    async def remember_answered(self, team: str, channel: str, thread: str) -> None:
        key = self._key("answered", team, channel, thread)
        try:
            await self._redis.set(key, "1", ex=self._answered_ttl)
        except RedisError as exc:
            raise StorageError(f"remembering a Slack thread failed: {exc}") from exc

    async def is_answered(self, team: str, channel: str, thread: str) -> bool:
        try:
            return bool(await self._redis.exists(self._key("answered", team, channel, thread)))
        except RedisError as exc:
            # Raised, not swallowed: the ack fails and Slack retries the follow-up.
            raise StorageError(f"looking up a Slack thread failed: {exc}") from exc

    async def add_uploads(self, team: str, channel: str, thread: str, files: list[FileRef]) -> None:
        if not files:
            return
        key = self._key("uploads", team, channel, thread)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, *(f.model_dump_json() for f in files))
                pipe.ltrim(key, -MAX_PENDING, -1)
                pipe.expire(key, self._uploads_ttl)
                await pipe.execute()
        except RedisError as exc:
            raise StorageError(f"remembering Slack uploads failed: {exc}") from exc

    async def take_uploads(self, team: str, channel: str, thread: str) -> list[FileRef]:
        key = self._key("uploads", team, channel, thread)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.lrange(key, 0, -1)
                pipe.delete(key)
                raw, _ = await pipe.execute()
        except RedisError as exc:
            raise StorageError(f"reading Slack uploads failed: {exc}") from exc
        return [FileRef.model_validate_json(item) for item in raw]


class LocalThreadMemory:
    """One process, no Redis: the most recent ``capacity`` threads of each kind."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._answered: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._uploads: OrderedDict[tuple[str, str, str], list[FileRef]] = OrderedDict()

    async def remember_answered(self, team: str, channel: str, thread: str) -> None:
        self._put(self._answered, (team, channel, thread), None)

    async def is_answered(self, team: str, channel: str, thread: str) -> bool:
        return (team, channel, thread) in self._answered

    async def add_uploads(self, team: str, channel: str, thread: str, files: list[FileRef]) -> None:
        if files:
            key = (team, channel, thread)
            self._put(self._uploads, key, [*self._uploads.get(key, []), *files][-MAX_PENDING:])

    async def take_uploads(self, team: str, channel: str, thread: str) -> list[FileRef]:
        return self._uploads.pop((team, channel, thread), [])

    def _put(
        self, store: OrderedDict[tuple[str, str, str], _V], key: tuple[str, str, str], value: _V
    ) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > self._capacity:
            store.popitem(last=False)
