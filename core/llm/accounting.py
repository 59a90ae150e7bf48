"""What the router needs from the rest of Nexus for money: a ledger and a budget check.

The router depends only on these two protocols. The conversation core wires the real
ones (the usage-ledger repository from ``core.storage`` and the Redis quotas from
``core.quotas``); the in-memory versions here serve tests and ``nexus ask``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from core.errors import QuotaExceededError


class UsageRecorder(Protocol):
    """Receives every billed LLM call (including failed ones that spent tokens)."""

    async def record_llm_usage(
        self,
        workspace: str,
        user: str | None,
        provider: str,
        model: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
    ) -> None: ...


class BudgetGuard(Protocol):
    """Checked before each (uncached) call; raises ``QuotaExceededError`` to refuse it."""

    async def check(self, workspace: str, estimated_cost_usd: float) -> None: ...


@dataclass(frozen=True)
class UsageRecord:
    workspace: str
    user: str | None
    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float


class InMemoryUsageRecorder:
    """Keeps every record in a list; totals per workspace."""

    def __init__(self) -> None:
        self.records: list[UsageRecord] = []
        self._spent: defaultdict[str, float] = defaultdict(float)

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
        self.records.append(
            UsageRecord(workspace, user, provider, model, tokens_in, tokens_out, cost_usd)
        )
        self._spent[workspace] += cost_usd

    def spent(self, workspace: str) -> float:
        return self._spent[workspace]


class InMemoryBudgetGuard:
    """A USD limit per workspace against what an :class:`InMemoryUsageRecorder` saw."""

    def __init__(self, limits_usd: Mapping[str, float], recorder: InMemoryUsageRecorder) -> None:
        self._limits = dict(limits_usd)
        self._recorder = recorder
        self.checks: list[tuple[str, float]] = []

    async def check(self, workspace: str, estimated_cost_usd: float) -> None:
        self.checks.append((workspace, estimated_cost_usd))
        limit = self._limits.get(workspace)
        if limit is None:
            return
        spent = self._recorder.spent(workspace)
        if spent + estimated_cost_usd > limit:
            raise QuotaExceededError(
                f"This workspace has used ${spent:.2f} of its ${limit:.2f} AI budget, "
                "so this question can't use AI right now. An admin can raise the limit.",
                detail=f"llm budget: spent={spent:.6f} estimate={estimated_cost_usd:.6f}",
            )
