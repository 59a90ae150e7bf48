"""The provider-neutral shapes of one LLM call: request, response, deadline.

Agents build a :class:`ChatRequest` and get a :class:`ChatResponse` back, whichever
provider answered. Both are JSON-safe pydantic models so a response can be cached in
Redis and a request hashed into a cache key.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One turn of the conversation sent to the model."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class ToolSpec(BaseModel):
    """A function the model may call; ``parameters`` is a JSON schema for its arguments."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ResponseSchema(BaseModel):
    """Structured output: the model's reply must be a JSON object matching ``json_schema``.

    ``strict`` asks OpenAI/Groq for constrained decoding, which needs a schema with
    ``additionalProperties: false`` and every property required; off by default so an
    ordinary pydantic schema is accepted. The reply is parsed either way.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    json_schema: dict[str, Any]
    strict: bool = False


class ChatRequest(BaseModel):
    """One chat call, addressed to no provider in particular."""

    model_config = ConfigDict(frozen=True)

    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolSpec] = Field(default_factory=list)
    # "required" forces a tool call (OpenAI/Groq "required", Anthropic "any").
    tool_choice: Literal["auto", "required"] = "auto"
    response_schema: ResponseSchema | None = None
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int = Field(default=1024, ge=1)
    workspace: str = Field(min_length=1)
    user: str | None = None
    # Per-provider model overrides, e.g. {"openai": "gpt-4.1"}; otherwise each
    # provider's configured default model answers.
    models: dict[str, str] = Field(default_factory=dict)
    # Temperature-0 calls are cached unless the caller opts out (e.g. a retry
    # after the user said the previous answer was wrong).
    cache: bool = True


class ToolCall(BaseModel):
    """A tool call the model made, with its arguments already parsed from JSON."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    arguments: dict[str, Any]


class ChatResponse(BaseModel):
    """What came back, from whom, and what it cost.

    Usage fields describe *this* call: a cache hit has ``cached=True`` and zero tokens
    and cost, because nothing was spent. Providers leave ``cost_usd`` at 0; the router
    prices the reply from its price table.
    """

    model_config = ConfigDict(frozen=True)

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    parsed: dict[str, Any] | None = None
    provider: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    cached: bool = False
    stop_reason: str | None = None


@dataclass(frozen=True)
class Deadline:
    """An absolute point in event-loop time by which an analysis must be done.

    One analysis makes several LLM calls (plan, review, narrate); create one deadline
    at its start and pass it to every ``LLMRouter.chat`` so the whole stays bounded.
    """

    at: float

    @classmethod
    def within(cls, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now on the running loop's clock."""
        return cls(asyncio.get_running_loop().time() + seconds)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - asyncio.get_running_loop().time()
