"""Recently identified members, so most messages skip the database on the ack path.

Every entry is stamped with its workspace's *members version*, a Redis counter that
any role or quota change bumps (the ``role`` chat command, ``nexus admin``). Each
lookup reads the counter (one Redis GET), so a change anywhere is seen by every
process at once; ``ttl`` only bounds memory and the life of entries whose change
bypassed this (a direct database edit).
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import StorageError
from core.membership import Member


def members_version_key(prefix: str, workspace: str) -> str:
    return f"{prefix}:{{{workspace}}}:members:version"


async def bump_members_version(redis: Redis, prefix: str, workspace: str) -> None:
    """Invalidate every process's cached members of ``workspace``."""
    try:
        await redis.incr(members_version_key(prefix, workspace))
    except RedisError as exc:
        raise StorageError(f"members version bump failed: {exc}") from exc


class MemberCache:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "nexus",
        ttl: float = 300.0,
        max_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, bytes, Member]] = OrderedDict()

    async def version(self, workspace: str) -> bytes:
        """The workspace's current members version (read it *before* a database lookup,
        so a change made during the lookup invalidates what it returns)."""
        try:
            value = await self._redis.get(members_version_key(self._prefix, workspace))
        except RedisError as exc:
            raise StorageError(f"members version lookup failed: {exc}") from exc
        return value if isinstance(value, bytes) else str(value or 0).encode()

    def get(self, workspace: str, user: str, version: bytes) -> Member | None:
        entry = self._entries.get((workspace, user))
        if entry is None or entry[0] < self._clock() or entry[1] != version:
            return None
        return entry[2]

    def put(self, member: Member, version: bytes) -> None:
        if self._ttl <= 0:
            return
        key = (member.workspace.id, member.user_id)
        # Jittered, so entries made in one burst do not all expire in the same instant.
        lifetime = self._ttl * (0.5 + 0.5 * random.random())
        self._entries[key] = (self._clock() + lifetime, version, member)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_size:
            self._entries.popitem(last=False)

    async def changed(self, workspace: str) -> None:
        """Roles or quotas of ``workspace`` changed: drop it here and everywhere."""
        for key in [k for k in self._entries if k[0] == workspace]:
            del self._entries[key]
        await bump_members_version(self._redis, self._prefix, workspace)
