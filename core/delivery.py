"""Exactly-once replies: one Redis marker per job id says whose turn it is to post.

ARQ runs a job at least once (a SIGKILLed worker's job runs again after
``job_timeout + 10 s``), so posting must be idempotent by job id. The marker
``<prefix>:reply:<job id>`` moves through:

- absent            nobody has posted; a run may claim it;
- ``sending:<run>``  run ``<run>`` is posting right now (claimed with the same script);
- ``posted:<status>`` the reply is out (``status`` is the job's final status);
- ``stopped``        the user said ``stop`` before anything was posted: never post.

The job row in the database carries the same outcome durably (``succeeded`` /
``failed``), so a reply is not posted again even if Redis loses the marker.

The remaining window, honestly: if a run dies *while* posting (after the platform
accepted the message, before the marker says ``posted``), the next run finds
``sending:<dead run>`` and posts again. We choose a possible duplicate over
silence ("the user always hears back"). The window is one platform call plus one
Redis round trip; it cannot be closed without idempotency keys on the platform side.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import StorageError

Claim = Literal["new", "takeover", "settled"]

# ARGV[1]: "sending:<run>"; ARGV[2]: ttl seconds.
_BEGIN = """
local current = redis.call('GET', KEYS[1])
if current and (current == 'stopped' or string.sub(current, 1, 7) == 'posted:') then
  return 'settled'
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if current and current ~= ARGV[1] then return 'takeover' end
return 'new'
"""

# Stop wins only if nobody started posting; returns the marker it found ('' if none).
_STOP = """
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], 'stopped', 'EX', ARGV[1])
return ''
"""


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class ReplyLedger:
    """Which job has had its reply posted (or suppressed by ``stop``)."""

    def __init__(
        self, redis: Redis, *, prefix: str = "nexus", ttl: timedelta = timedelta(days=7)
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:reply:"
        self._ttl = max(1, int(ttl.total_seconds()))
        self._begin = redis.register_script(_BEGIN)
        self._stop = redis.register_script(_STOP)

    def _key(self, job_id: str) -> str:
        return self._prefix + job_id

    async def state(self, job_id: str) -> str | None:
        """The raw marker (``posted:succeeded``, ``stopped``, ``sending:...``) or None."""
        try:
            return _text(await self._redis.get(self._key(job_id)))
        except RedisError as exc:
            raise StorageError(f"reply marker lookup failed: {exc}") from exc

    async def settled(self, job_id: str) -> bool:
        """True once the reply is posted or suppressed: a run has nothing left to do."""
        state = await self.state(job_id)
        return state is not None and (state == "stopped" or state.startswith("posted:"))

    async def begin(self, job_id: str, run: str) -> Claim:
        """Claim the right to post for ``run``.

        ``settled``: someone posted or the user stopped it — do not post.
        ``takeover``: an earlier run claimed it and died mid-post — post again.
        """
        try:
            result = await self._begin(keys=[self._key(job_id)], args=[f"sending:{run}", self._ttl])
        except RedisError as exc:
            raise StorageError(f"reply claim failed: {exc}") from exc
        claim = _text(result)
        if claim not in ("new", "takeover", "settled"):
            raise StorageError(f"unexpected reply claim {claim!r}")
        return claim  # type: ignore[return-value]

    async def complete(self, job_id: str, status: str) -> None:
        try:
            await self._redis.set(self._key(job_id), f"posted:{status}", ex=self._ttl)
        except RedisError as exc:
            raise StorageError(f"reply marker update failed: {exc}") from exc

    async def stop(self, job_id: str) -> str | None:
        """Suppress the job's reply. None if that worked; else the marker that beat it
        (the reply is already out or being posted)."""
        try:
            found = _text(await self._stop(keys=[self._key(job_id)], args=[self._ttl]))
        except RedisError as exc:
            raise StorageError(f"reply stop failed: {exc}") from exc
        return found or None
