"""The playground's "chat server": threads, their messages and status lines, in Redis.

On Slack the platform keeps the thread; here this store does. The web process writes
the user's messages, the worker's :class:`~adapters.playground.io.PlaygroundSender`
writes replies and progress, and the page reads both. Whatever both processes see
holds it: the real Redis of ``REDIS_URL`` (``nexus serve`` + ``nexus worker``), or an
in-process fakeredis when there is none (``nexus dev``, one process).

Keys (one workspace's share a Redis Cluster slot through the braces)::

    <prefix>:{<workspace>}:playground:threads            hash  thread id → JSON summary
    <prefix>:{<workspace>}:playground:log:<thread>       list  JSON entries, index = seq
    <prefix>:{<workspace>}:playground:progress:<thread>  hash  job id → status line
    <prefix>:{<workspace>}:playground:seen               set   keys of the entries
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import StorageError

# KEYS: seen set, log, progress hash. ARGV: entry key, entry JSON, ttl seconds.
# An entry key seen before appends nothing (-1): a reply posted twice, or a message
# the page sent again after a network error, shows once (the conversation manager
# dedupes the event itself). A reply also clears its job's status line.
_APPEND = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return -1 end
redis.call('EXPIRE', KEYS[1], ARGV[3])
local length = redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[1])
return length - 1
"""


@contextmanager
def _unavailable_as_storage_error() -> Iterator[None]:
    # A Redis hiccup is a transient StorageError: the worker retries the job, the
    # page's request fails and the page tries again.
    try:
        yield
    except RedisError as exc:
        raise StorageError("playground store unavailable") from exc


@dataclass(frozen=True)
class ThreadView:
    """What the page polls: entries after a sequence number, and live status lines."""

    entries: list[dict[str, Any]]
    progress: dict[str, str]


class PlaygroundStore:
    def __init__(
        self, redis: Redis, *, prefix: str, workspace: str, ttl: timedelta = timedelta(days=7)
    ) -> None:
        self._redis = redis
        self._base = f"{prefix}:{{{workspace}}}:playground"
        self._ttl = int(ttl.total_seconds())
        self._script = redis.register_script(_APPEND)

    def _log(self, thread: str) -> str:
        return f"{self._base}:log:{thread}"

    def _progress(self, thread: str) -> str:
        return f"{self._base}:progress:{thread}"

    async def add_message(self, thread: str, key: str, entry: dict[str, Any]) -> bool:
        """Append a user message (or a notice) once per ``key``; lists the thread."""
        summary = {"id": thread, "title": str(entry.get("text") or "")[:60], "at": entry["at"]}
        with _unavailable_as_storage_error():
            await self._redis.hsetnx(f"{self._base}:threads", thread, json.dumps(summary))
            await self._redis.expire(f"{self._base}:threads", self._ttl)
        return await self._append(thread, f"message:{key}", entry)

    async def add_reply(self, thread: str, key: str, entry: dict[str, Any]) -> bool:
        """Append a reply unless one with ``key`` was posted; clears its status line."""
        return await self._append(thread, key, entry)

    async def _append(self, thread: str, key: str, entry: dict[str, Any]) -> bool:
        keys = [f"{self._base}:seen", self._log(thread), self._progress(thread)]
        with _unavailable_as_storage_error():
            seq = int(await self._script(keys=keys, args=[key, json.dumps(entry), self._ttl]))
        return seq >= 0

    async def set_progress(self, thread: str, key: str, text: str) -> None:
        with _unavailable_as_storage_error():
            await self._redis.hset(self._progress(thread), key, text)
            await self._redis.expire(self._progress(thread), self._ttl)

    async def read(self, thread: str, after: int = -1) -> ThreadView:
        """Entries with a sequence number above ``after`` (each carries its ``seq``)."""
        after = max(after, -1)
        with _unavailable_as_storage_error():
            raw = await self._redis.lrange(self._log(thread), after + 1, -1)
            progress = await self._redis.hgetall(self._progress(thread))
        entries = [{**json.loads(item), "seq": after + 1 + n} for n, item in enumerate(raw)]
        return ThreadView(entries, {_text(k): _text(v) for k, v in progress.items()})

    async def threads(self) -> list[dict[str, Any]]:
        """Every thread's summary (id, title, first message time), newest first."""
        with _unavailable_as_storage_error():
            raw = await self._redis.hvals(f"{self._base}:threads")
        summaries = [json.loads(item) for item in raw]
        return sorted(summaries, key=lambda s: str(s["at"]), reverse=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
