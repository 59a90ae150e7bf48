"""Exactly-once acceptance of redelivered platform events, in Redis.

Platforms redeliver (Slack retries, Teams resends after 15 s, Discord resumes), and
Slack sends ``app_mention`` *and* ``message`` for one tagged message. An event is
therefore known by several keys (its event id, its channel + message id; see
:meth:`core.events.Inbound.dedupe_keys`), and is accepted only if none of them was
seen. Checking and marking happen in one Lua script, so concurrent deliveries of
the same event on several processes yield exactly one successful claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import StorageError

# Check every key first, then mark every key: all-or-nothing, atomic in Redis.
_CLAIM = """
if redis.call('EXISTS', unpack(KEYS)) > 0 then
  return 0
end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
end
return 1
"""


class Deduplicator:
    """Claims on event keys that expire after ``ttl`` (longer than any redelivery)."""

    def __init__(
        self, redis: Redis, ttl: timedelta = timedelta(hours=24), *, prefix: str = "nexus"
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        self._redis = redis
        self._ttl_ms = int(ttl.total_seconds() * 1000)
        self._prefix = f"{prefix}:dedupe:"
        self._claim = redis.register_script(_CLAIM)

    def _keys(self, keys: Sequence[str]) -> list[str]:
        if not keys or any(not key for key in keys):
            raise ValueError("claim needs one or more non-empty keys")
        return [self._prefix + key for key in dict.fromkeys(keys)]

    async def claim(self, keys: Sequence[str], *, value: str = "1") -> bool:
        """True if none of ``keys`` was seen before; then all of them are marked.

        Raises :class:`StorageError` if Redis fails, so the adapter's ack fails and
        the platform retries rather than the event being dropped.
        """
        try:
            result = await self._claim(keys=self._keys(keys), args=[value, self._ttl_ms])
        except RedisError as exc:
            raise StorageError(f"dedupe claim failed: {exc}") from exc
        return bool(int(result))

    async def release(self, keys: Sequence[str]) -> None:
        """Undo a successful claim (the enqueue after it failed), so a redelivery is
        accepted. Call it only for keys this process claimed."""
        try:
            await self._redis.delete(*self._keys(keys))
        except RedisError as exc:
            raise StorageError(f"dedupe release failed: {exc}") from exc

    async def seen(self, key: str) -> bool:
        try:
            return bool(await self._redis.exists(*self._keys([key])))
        except RedisError as exc:
            raise StorageError(f"dedupe lookup failed: {exc}") from exc
