"""Per-key request limits for the admin API (the ``limits`` library).

A moving window — N requests in any 60 seconds per key — counted in Redis, so every
web process shares it; ``nexus dev`` without Redis counts in memory.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter


def _storage(redis_url: str | None, prefix: str) -> Storage:
    if redis_url is None:
        return MemoryStorage()
    scheme, rest = redis_url.split("://", 1)
    # redis-py (already a dependency) rather than the library's default client.
    return RedisStorage(
        f"async+{scheme}://{rest}", implementation="redispy", key_prefix=f"{prefix}:api-rate"
    )


class KeyRateLimiter:
    def __init__(self, redis_url: str | None, *, prefix: str, default_per_minute: int) -> None:
        self._limiter = MovingWindowRateLimiter(_storage(redis_url, prefix))
        self._default = default_per_minute

    async def hit(self, key_id: str, per_minute: int | None) -> tuple[bool, int]:
        """Count one request: (allowed, seconds until a slot frees when refused)."""
        item = RateLimitItemPerMinute(per_minute or self._default)
        if await self._limiter.hit(item, key_id):
            return True, 0
        stats = await self._limiter.get_window_stats(item, key_id)
        return False, max(1, int(stats.reset_time - time.time()) + 1)
