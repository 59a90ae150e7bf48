"""Quotas: atomic check-and-increment of usage counters in Redis.

Each quota kind maps to one or more limits, each with a calendar window (UTC minute,
day or month). A counter key names its workspace and its window, e.g.
``nexus:{slack:T1}:quota:analyses_per_day:20250102``; it expires shortly after its
window ends, so resetting is free and exact. One Lua script checks every limit of a
kind and increments all of them or none, so concurrent workers never overshoot.
(The braces make a Redis Cluster hash tag: one workspace's keys share a slot.)

This module is Redis only. The durable record is the usage ledger
(:mod:`core.storage.repositories.usage`), written by the caller next to ``reserve``.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import QuotaExceededError, StorageError
from core.quota_messages import refusal_message

QuotaKind = Literal["analysis", "request", "tokens", "cost_usd", "upload_bytes", "sandbox_seconds"]
Window = Literal["minute", "day", "month"]  # calendar windows in UTC

_GRACE = timedelta(minutes=5)
"""Keys outlive their window a little, so a late refund still finds its counter."""


class QuotaPolicy(BaseModel):
    """Limits of one workspace; ``0`` or ``None`` means unlimited."""

    analyses_per_day: int | None = Field(default=200, ge=0)
    tokens_per_day: int | None = Field(default=2_000_000, ge=0)
    tokens_per_month: int | None = Field(default=40_000_000, ge=0)
    cost_usd_per_day: float | None = Field(default=25.0, ge=0)
    cost_usd_per_month: float | None = Field(default=500.0, ge=0)
    upload_bytes_per_day: int | None = Field(default=2 * 1024**3, ge=0)
    sandbox_seconds_per_day: int | None = Field(default=3600, ge=0)
    requests_per_user_per_minute: int | None = Field(default=20, ge=0)

    @field_validator("*")
    @classmethod
    def _zero_is_unlimited(cls, value: float | None) -> float | None:
        return None if value == 0 else value

    def with_overrides(self, overrides: Mapping[str, Any]) -> QuotaPolicy:
        """This policy with a workspace's overrides (from its settings) applied."""
        return QuotaPolicy.model_validate({**self.model_dump(), **overrides})


@dataclass(frozen=True)
class _Limit:
    name: str
    """The :class:`QuotaPolicy` field."""
    window: Window
    per_user: bool
    unit: str
    """``count``, ``bytes``, ``usd`` or ``seconds``: how numbers are written."""
    noun: str


_LIMITS: Mapping[str, tuple[_Limit, ...]] = {
    "analysis": (_Limit("analyses_per_day", "day", False, "count", "analyses"),),
    "request": (_Limit("requests_per_user_per_minute", "minute", True, "count", "requests"),),
    "tokens": (
        _Limit("tokens_per_day", "day", False, "count", "LLM tokens"),
        _Limit("tokens_per_month", "month", False, "count", "LLM tokens"),
    ),
    "cost_usd": (
        _Limit("cost_usd_per_day", "day", False, "usd", "of LLM spend"),
        _Limit("cost_usd_per_month", "month", False, "usd", "of LLM spend"),
    ),
    "upload_bytes": (_Limit("upload_bytes_per_day", "day", False, "bytes", "of uploads"),),
    "sandbox_seconds": (
        _Limit("sandbox_seconds_per_day", "day", False, "seconds", "of code execution"),
    ),
}

# KEYS: counters. ARGV[1]: amount; then per key: limit (-1 = unlimited), ttl seconds.
# Returns {0} on success or {index of the refusing key, its current value}.
_RESERVE = """
local amount = tonumber(ARGV[1])
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if limit >= 0 and current + amount > limit then
    return {i, tostring(current)}
  end
end
for i = 1, #KEYS do
  redis.call('INCRBYFLOAT', KEYS[i], ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[2 * i + 1])
end
return {0}
"""

# KEYS[1]: refund marker; KEYS[2..]: counters. ARGV[1]: delta; ARGV[2]: marker ttl;
# ARGV[3]: "1" to use the marker. The marker makes refunds idempotent; counters whose
# window already expired are left alone (never recreated without a TTL), and none goes
# below zero.
_ADJUST = """
if ARGV[3] == '1' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  return 0
end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if tonumber(redis.call('INCRBYFLOAT', KEYS[i], ARGV[1])) < 0 then
      redis.call('SET', KEYS[i], '0', 'KEEPTTL')
    end
  end
end
return 1
"""


class Reservation(BaseModel):
    """What :meth:`Quotas.reserve` counted; JSON-safe, so a worker can refund it."""

    model_config = ConfigDict(frozen=True)

    id: str
    workspace: str
    user: str
    kind: QuotaKind
    amount: float
    keys: list[str]
    expires_at: datetime


class LimitUsage(BaseModel):
    name: str
    used: float
    limit: float | None
    resets_at: datetime


def window_reset(window: Window, now: datetime) -> tuple[str, datetime]:
    """The window's stamp (part of the key) and when it resets, for a UTC ``now``."""
    if window == "minute":
        start = now.replace(second=0, microsecond=0)
        return start.strftime("%Y%m%dT%H%M"), start + timedelta(minutes=1)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "day":
        return day.strftime("%Y%m%d"), day + timedelta(days=1)
    first = day.replace(day=1)
    following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
    return first.strftime("%Y%m"), following


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Quotas:
    """Per-workspace and per-user limits over one Redis."""

    def __init__(
        self,
        redis: Redis,
        *,
        policy: QuotaPolicy | None = None,
        prefix: str = "nexus",
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._redis = redis
        self.policy = policy or QuotaPolicy()
        self._prefix = prefix
        self._clock = clock
        self._reserve = redis.register_script(_RESERVE)
        self._adjust = redis.register_script(_ADJUST)

    def _key(self, workspace: str, limit: _Limit, user: str, stamp: str) -> str:
        who = f"{limit.name}:{user}" if limit.per_user else limit.name
        return f"{self._prefix}:{{{workspace}}}:quota:{who}:{stamp}"

    async def reserve(
        self,
        workspace: str,
        user: str,
        kind: QuotaKind,
        amount: float = 1,
        *,
        policy: QuotaPolicy | None = None,
    ) -> Reservation:
        """Count ``amount`` against every limit of ``kind``, or raise
        :class:`QuotaExceededError` (saying which limit and when it resets) and count
        nothing."""
        if amount < 0 or not math.isfinite(amount):
            raise ValueError("amount must be a finite number >= 0")
        limits, policy = _LIMITS[kind], policy or self.policy
        now = self._clock().astimezone(UTC)
        keys: list[str] = []
        args: list[Any] = [repr(float(amount))]
        resets: list[datetime] = []
        for limit in limits:
            stamp, resets_at = window_reset(limit.window, now)
            keys.append(self._key(workspace, limit, user, stamp))
            maximum = getattr(policy, limit.name)
            ttl = math.ceil((resets_at + _GRACE - now).total_seconds())
            args += [-1 if maximum is None else repr(float(maximum)), ttl]
            resets.append(resets_at)
        try:
            result = await self._reserve(keys=keys, args=args)
        except RedisError as exc:
            raise StorageError(f"quota check failed: {exc}") from exc
        if int(result[0]) != 0:
            index = int(result[0]) - 1
            limit, used = limits[index], float(result[1])
            maximum = float(getattr(policy, limit.name))
            raise QuotaExceededError(
                refusal_message(
                    limit.unit,
                    limit.noun,
                    window=limit.window,
                    per_user=limit.per_user,
                    used=used,
                    maximum=maximum,
                    amount=amount,
                    resets_at=resets[index],
                    now=now,
                ),
                limit=limit.name,
                detail=f"quota {limit.name} for {workspace}: used={used} "
                f"limit={maximum} amount={amount} resets_at={resets[index].isoformat()}",
            )
        return Reservation(
            id=uuid.uuid4().hex,
            workspace=workspace,
            user=user,
            kind=kind,
            amount=float(amount),
            keys=keys,
            expires_at=max(resets) + _GRACE,
        )

    async def refund(self, reservation: Reservation) -> bool:
        """Give a reservation back (the job failed through no fault of the user).

        Idempotent: a job retried and failing twice refunds once. Returns whether
        this call refunded.
        """
        ttl = max(1, math.ceil((reservation.expires_at - self._clock()).total_seconds()))
        return await self._run_adjust(reservation, -reservation.amount, marker_ttl=ttl)

    async def settle(self, reservation: Reservation, actual: float) -> Reservation:
        """Replace an estimate by the actual amount (tokens known after the LLM call).

        Not checked against the limit: the work is done; the next reserve will refuse.
        """
        await self._run_adjust(reservation, actual - reservation.amount, marker_ttl=None)
        return reservation.model_copy(update={"amount": float(actual)})

    async def _run_adjust(
        self, reservation: Reservation, delta: float, *, marker_ttl: int | None
    ) -> bool:
        marker = f"{self._prefix}:{{{reservation.workspace}}}:quota:refunded:{reservation.id}"
        use_marker = "0" if marker_ttl is None else "1"
        args: list[str | int] = [repr(float(delta)), marker_ttl or 1, use_marker]
        try:
            return bool(int(await self._adjust(keys=[marker, *reservation.keys], args=args)))
        except RedisError as exc:
            raise StorageError(f"quota adjustment failed: {exc}") from exc

    async def usage(
        self, workspace: str, *, user: str | None = None, policy: QuotaPolicy | None = None
    ) -> list[LimitUsage]:
        """Current counters of every workspace limit (and ``user``'s, if given)."""
        policy, now = policy or self.policy, self._clock().astimezone(UTC)
        wanted: list[tuple[_Limit, str, datetime]] = []
        for limits in _LIMITS.values():
            for limit in limits:
                if limit.per_user and user is None:
                    continue
                stamp, resets_at = window_reset(limit.window, now)
                wanted.append((limit, self._key(workspace, limit, user or "", stamp), resets_at))
        try:
            values = await self._redis.mget([key for _, key, _ in wanted])
        except RedisError as exc:
            raise StorageError(f"quota usage lookup failed: {exc}") from exc
        return [
            LimitUsage(
                name=limit.name,
                used=float(value or 0),
                limit=getattr(policy, limit.name),
                resets_at=resets_at,
            )
            for (limit, _, resets_at), value in zip(wanted, values, strict=True)
        ]
