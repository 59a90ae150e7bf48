"""LLM providers (OpenAI, Anthropic, Groq) behind one interface, and the router.

Agents use :class:`LLMRouter.chat` with a :class:`ChatRequest`; build the router with
:func:`core.llm.factory.build_router`. See ``router.py`` for the failover, Retry-After,
deadline, budget, accounting and cache policy.
"""

from __future__ import annotations

from core.llm.accounting import (
    BudgetGuard,
    InMemoryBudgetGuard,
    InMemoryUsageRecorder,
    UsageRecorder,
)
from core.llm.cache import LLMCache
from core.llm.circuit import BreakerState, CircuitBreaker
from core.llm.errors import FailureKind, ProviderFailure
from core.llm.pricing import ModelPrice, PriceTable
from core.llm.providers.base import Provider
from core.llm.router import LLMRouter
from core.llm.types import (
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Deadline,
    ResponseSchema,
    ToolCall,
    ToolSpec,
)

__all__ = [
    "BreakerState",
    "BudgetGuard",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "CircuitBreaker",
    "Deadline",
    "FailureKind",
    "InMemoryBudgetGuard",
    "InMemoryUsageRecorder",
    "LLMCache",
    "LLMRouter",
    "ModelPrice",
    "PriceTable",
    "Provider",
    "ProviderFailure",
    "ResponseSchema",
    "ToolCall",
    "ToolSpec",
    "UsageRecorder",
]
