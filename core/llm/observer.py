"""What the LLM router reports as it works, for metrics (no Prometheus import here).

:class:`core.metrics.NexusMetrics` implements it; tests may pass any object with
these methods. Calls are synchronous and must not raise.
"""

from __future__ import annotations

from typing import Protocol


class RouterObserver(Protocol):
    def llm_call(self, provider: str, model: str, outcome: str) -> None:
        """One attempt ended: ``ok``, ``cached``, or the failure kind (``rate_limited``...)."""

    def llm_spend(
        self, provider: str, model: str, tokens_in: int, tokens_out: int, cost_usd: float
    ) -> None:
        """Tokens and dollars billed for one reply (answers and billed failures)."""

    def llm_failover(self, from_provider: str, to_provider: str) -> None:
        """The call moved on from a provider that failed to the next one in the chain."""


class NoObserver:
    def llm_call(self, provider: str, model: str, outcome: str) -> None:
        return None

    def llm_spend(
        self, provider: str, model: str, tokens_in: int, tokens_out: int, cost_usd: float
    ) -> None:
        return None

    def llm_failover(self, from_provider: str, to_provider: str) -> None:
        return None
