"""The record of one ``LLMRouter.chat`` call: each provider's outcome and what was spent.

It outlives the deadline's cancellation, so the router can still say what happened
to every provider and record the tokens already billed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.errors import ProviderUnavailableError


@dataclass(frozen=True)
class Spend:
    """One billed reply (an answer, or a malformed/refused reply that still cost tokens)."""

    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclass
class Attempts:
    outcomes: dict[str, str] = field(default_factory=dict)
    # Provider → event-loop time its Retry-After ends, for the one waiting pass.
    retry_at: dict[str, float] = field(default_factory=dict)
    spent: list[Spend] = field(default_factory=list)
    current: str | None = None
    answered_model: str = ""

    def outage_error(self, chain: Sequence[str]) -> ProviderUnavailableError:
        """The user-facing message when no provider answered, one reason per provider."""
        parts = ", ".join(f"{name}: {self.outcomes.get(name, 'no time left')}" for name in chain)
        # Malformed or refused replies are billed; only promise "not charged" when true.
        tail = (
            "Try again in a few minutes."
            if self.spent
            else "Your quota was not charged; try again in a few minutes."
        )
        return ProviderUnavailableError(
            f"Every AI provider is unavailable right now ({parts}). {tail}",
            detail=f"llm outage: {self.outcomes}",
            speaks_of_quota=not self.spent,
        )
