"""Prices per model (USD per million input / output tokens) and cost arithmetic.

The built-in table holds list prices at the time of writing; operators override or
extend it with ``NEXUS_LLM_PRICES`` (JSON: ``{"model": [input, output]}``, read by
``Settings.llm_prices``). Providers
answer with dated snapshot names (``gpt-4.1-mini-2025-04-14``), so lookup falls back
to the longest table entry the name starts with. A model with no entry is priced at
a deliberately high default, so an unknown model can only over-count against a
quota, never under-count, and is logged once so an operator can add it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from core.llm.types import ChatRequest
from core.logging import get_logger

log = get_logger("llm.pricing")


@dataclass(frozen=True)
class ModelPrice:
    input_per_mtok: float
    output_per_mtok: float


DEFAULT_PRICES: dict[str, ModelPrice] = {
    # OpenAI
    "gpt-4.1": ModelPrice(2.00, 8.00),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40),
    "gpt-4o": ModelPrice(2.50, 10.00),
    "gpt-4o-mini": ModelPrice(0.15, 0.60),
    "gpt-5": ModelPrice(1.25, 10.00),
    "gpt-5-mini": ModelPrice(0.25, 2.00),
    "gpt-5-nano": ModelPrice(0.05, 0.40),
    # Anthropic
    "claude-opus-4": ModelPrice(15.00, 75.00),
    "claude-sonnet-4": ModelPrice(3.00, 15.00),
    "claude-haiku-4-5": ModelPrice(1.00, 5.00),
    "claude-3-5-haiku": ModelPrice(0.80, 4.00),
    # Groq
    "openai/gpt-oss-120b": ModelPrice(0.15, 0.75),
    "openai/gpt-oss-20b": ModelPrice(0.10, 0.50),
    "llama-3.3-70b-versatile": ModelPrice(0.59, 0.79),
    "llama-3.1-8b-instant": ModelPrice(0.05, 0.08),
}

# As expensive as the priciest model above: unknown models over-count.
FALLBACK_PRICE = ModelPrice(15.00, 75.00)

# Rough characters per token for the pre-call estimate; errs towards more tokens.
_CHARS_PER_TOKEN = 3.5


class PriceTable:
    """Looks up a model's price and turns token counts into USD."""

    def __init__(
        self,
        prices: Mapping[str, ModelPrice] | None = None,
        *,
        overrides: Mapping[str, ModelPrice] | None = None,
        fallback: ModelPrice = FALLBACK_PRICE,
    ) -> None:
        self._prices = {**(DEFAULT_PRICES if prices is None else prices), **(overrides or {})}
        self._fallback = fallback
        self._warned: set[str] = set()

    def price_for(self, model: str) -> ModelPrice:
        if model in self._prices:
            return self._prices[model]
        matches = [name for name in self._prices if model.startswith(name)]
        if matches:
            return self._prices[max(matches, key=len)]
        if model not in self._warned:
            self._warned.add(model)
            log.warning(
                "llm.price_unknown",
                model=model,
                input_per_mtok=self._fallback.input_per_mtok,
                output_per_mtok=self._fallback.output_per_mtok,
            )
        return self._fallback

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float:
        price = self.price_for(model)
        return (tokens_in * price.input_per_mtok + tokens_out * price.output_per_mtok) / 1e6

    def estimate(self, request: ChatRequest, model: str) -> float:
        """An upper-leaning cost estimate before the call: prompt size plus max_tokens."""
        chars = sum(len(message.content) for message in request.messages)
        chars += sum(
            len(json.dumps(tool.parameters)) + len(tool.description) for tool in request.tools
        )
        if request.response_schema is not None:
            chars += len(json.dumps(request.response_schema.json_schema))
        tokens_in = int(chars / _CHARS_PER_TOKEN) + 16 * len(request.messages)
        return self.cost(model, tokens_in, request.max_tokens)
