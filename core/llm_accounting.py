"""The LLM router's money protocols (``core.llm.accounting``) over Nexus's real stores.

- :class:`LedgerUsageRecorder` writes every billed call into the usage ledger
  (``tokens_in``, ``tokens_out``, ``cost_usd`` rows for workspace + user) and counts
  it into the workspace's Redis ``tokens`` / ``cost_usd`` quota counters.
- :class:`QuotaBudgetGuard` is a read-only check before each uncached call: it
  refuses (``QuotaExceededError``, the same wording as every other quota) when the
  workspace has used its daily or monthly tokens, or when the call's estimated cost
  would take it past its daily or monthly spend.

Why check-then-count rather than reserve/settle: the router knows a call's cost only
from its estimate before and its usage after, and a reservation per call would need
the router to carry it through failover. Counting the actual spend afterwards is
exact; the price is that concurrent calls may overshoot a limit by at most one
call's cost each, after which every call is refused until the window resets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from core.errors import QuotaExceededError
from core.logging import get_logger
from core.membership import quota_policy
from core.quota_messages import refusal_message
from core.quotas import QuotaPolicy, Quotas
from core.storage.db import Database
from core.storage.repositories import usage, workspaces

log = get_logger("llm_accounting")

_COUNT_ONLY = QuotaPolicy(
    tokens_per_day=None, tokens_per_month=None, cost_usd_per_day=None, cost_usd_per_month=None
)
"""Counting what was already spent never refuses: the call has happened."""

_LimitInfo = tuple[Literal["count", "usd"], str, Literal["day", "month"]]
_BUDGET_LIMITS: dict[str, _LimitInfo] = {
    "tokens_per_day": ("count", "LLM tokens", "day"),
    "tokens_per_month": ("count", "LLM tokens", "month"),
    "cost_usd_per_day": ("usd", "of LLM spend", "day"),
    "cost_usd_per_month": ("usd", "of LLM spend", "month"),
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LedgerUsageRecorder:
    """``UsageRecorder``: the usage ledger (durable) plus the Redis quota counters."""

    def __init__(self, *, database: Database, quotas: Quotas) -> None:
        self._db = database
        self._quotas = quotas

    async def record_llm_usage(
        self,
        workspace: str,
        user: str | None,
        provider: str,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
    ) -> None:
        async with self._db.session() as session:
            await usage.record(session, workspace, kind="tokens_in", amount=tokens_in, user_id=user)
            await usage.record(
                session, workspace, kind="tokens_out", amount=tokens_out, user_id=user
            )
            await usage.record(session, workspace, kind="cost_usd", amount=cost_usd, user_id=user)
        who = user or ""
        tokens = tokens_in + tokens_out
        await self._quotas.reserve(workspace, who, "tokens", tokens, policy=_COUNT_ONLY)
        await self._quotas.reserve(workspace, who, "cost_usd", cost_usd, policy=_COUNT_ONLY)
        log.info(
            "llm_usage_recorded",
            workspace=workspace,
            provider=provider,
            model=model,
            tokens=tokens,
            cost_usd=round(cost_usd, 6),
        )


class QuotaBudgetGuard:
    """``BudgetGuard``: the workspace's token and spend limits, read from ``Quotas``."""

    def __init__(
        self,
        *,
        database: Database,
        quotas: Quotas,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._db = database
        self._quotas = quotas
        self._clock = clock

    async def _policy(self, workspace: str) -> QuotaPolicy:
        async with self._db.session() as session:
            row = await workspaces.get(session, workspace)
        return self._quotas.policy if row is None else quota_policy(self._quotas.policy, row)

    async def check(self, workspace: str, estimated_cost_usd: float) -> None:
        policy = await self._policy(workspace)
        for limit in await self._quotas.usage(workspace, policy=policy):
            info = _BUDGET_LIMITS.get(limit.name)
            if info is None or limit.limit is None:
                continue
            unit, noun, window = info
            amount = estimated_cost_usd if unit == "usd" else 0.0
            if limit.used < limit.limit and limit.used + amount <= limit.limit:
                continue
            raise QuotaExceededError(
                refusal_message(
                    unit,
                    noun,
                    window=window,
                    per_user=False,
                    used=limit.used,
                    maximum=float(limit.limit),
                    amount=amount,
                    resets_at=limit.resets_at,
                    now=self._clock(),
                ),
                limit=limit.name,
                detail=f"llm budget {limit.name} for {workspace}: used={limit.used} "
                f"limit={limit.limit} estimate={estimated_cost_usd}",
            )
