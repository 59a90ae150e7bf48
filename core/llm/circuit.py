"""A circuit breaker per provider, plus the provider's own Retry-After hold.

closed ── N consecutive unhealthy failures ──▶ open ── cooldown ──▶ half-open
  ▲                                             ▲                     │ one probe
  └──────────────── probe succeeds ─────────────┴── probe fails ──────┘

While open, calls skip the provider without a request. After the cooldown exactly
one call (the probe) is let through; the rest keep skipping until it reports. A
``Retry-After`` from the provider is a separate *hold*: the provider is skipped until
then whatever the breaker state, because the provider asked for it.

State is per process: each worker learns on its own, which costs at most N failed
calls per worker and needs no shared state on the hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

Clock = Callable[[], float]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure breaker with a half-open probe and an injectable clock."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 3,
        cooldown_seconds: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self._threshold = failure_threshold
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._held_until = 0.0

    @property
    def state(self) -> BreakerState:
        """The state as of now (an open breaker past its cooldown reads half-open)."""
        if self._state is BreakerState.OPEN and self._cooldown_over():
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def held_for(self) -> float:
        """Seconds left on a Retry-After hold (0 when none)."""
        return max(0.0, self._held_until - self._clock())

    def allow(self) -> bool:
        """May a call go to this provider now? Claims the probe slot when half-open."""
        if self.held_for > 0:
            return False
        if self._state is BreakerState.OPEN:
            if not self._cooldown_over():
                return False
            self._state = BreakerState.HALF_OPEN
            self._probe_in_flight = False
        if self._state is BreakerState.HALF_OPEN:
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._probe_in_flight = False

    def record_failure(self) -> None:
        """An unhealthy failure (5xx, 429, timeout, unreachable)."""
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self._threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
            self._probe_in_flight = False

    def record_neutral(self) -> None:
        """The call ended without telling us about health (cancelled, malformed output,
        refused request): free a half-open probe slot so another call can probe."""
        self._probe_in_flight = False

    def hold(self, seconds: float) -> None:
        """Honour a Retry-After: skip this provider for ``seconds``."""
        self._held_until = max(self._held_until, self._clock() + seconds)

    def _cooldown_over(self) -> bool:
        return self._clock() - self._opened_at >= self._cooldown
