"""The one interface every LLM provider implements, and the shared timing/error frame.

A provider turns a :class:`ChatRequest` into one SDK call and the SDK's reply into a
:class:`ChatResponse`. It never retries: each SDK client is built with
``max_retries=0`` and an explicit short timeout, because retry and failover policy
belongs to the router, which sees every provider and the analysis deadline.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Protocol

from core.llm.errors import FailureKind, ProviderFailure, classify_status
from core.llm.types import ChatRequest, ChatResponse, ToolCall


class Provider(Protocol):
    """What the router calls."""

    @property
    def name(self) -> str: ...

    def model_for(self, request: ChatRequest) -> str: ...

    async def complete(
        self, request: ChatRequest, *, time_limit: float | None = None
    ) -> ChatResponse:
        """One attempt; raises :class:`ProviderFailure` on any classified failure."""
        ...

    async def aclose(self) -> None: ...


class SDKProvider(ABC):
    """Common frame: model choice, timeout, latency, and exception classification."""

    name: str = ""

    def __init__(self, *, model: str, timeout_seconds: float) -> None:
        self.default_model = model
        self.timeout_seconds = timeout_seconds

    def model_for(self, request: ChatRequest) -> str:
        return request.models.get(self.name, self.default_model)

    async def complete(
        self, request: ChatRequest, *, time_limit: float | None = None
    ) -> ChatResponse:
        model = self.model_for(request)
        # The router passes what is left of the deadline; the SDK's own timeout then
        # fires first and the failure is classified instead of merely cancelled.
        budget = (
            self.timeout_seconds if time_limit is None else min(self.timeout_seconds, time_limit)
        )
        started = time.perf_counter()
        try:
            response = await self._call(request, model, max(budget, 0.001))
        except ProviderFailure:
            raise
        except Exception as exc:
            failure = self._classify(exc, model)
            if failure is None:
                raise
            raise failure from exc
        latency_ms = (time.perf_counter() - started) * 1000.0
        return response.model_copy(update={"latency_ms": latency_ms})

    @abstractmethod
    async def _call(self, request: ChatRequest, model: str, time_limit: float) -> ChatResponse:
        """Make the SDK call and translate the reply; raise SDK exceptions as they come."""

    @abstractmethod
    def _classify(self, exc: Exception, model: str) -> ProviderFailure | None:
        """Map an SDK exception to a failure, or ``None`` to let it propagate (a bug)."""

    @abstractmethod
    async def aclose(self) -> None: ...

    def malformed(
        self, model: str, detail: str, tokens_in: int, tokens_out: int
    ) -> ProviderFailure:
        """The reply arrived and was billed but cannot be used."""
        return ProviderFailure(
            self.name,
            FailureKind.MALFORMED_OUTPUT,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            detail=detail,
        )

    def refused(self, model: str, detail: str, tokens_in: int, tokens_out: int) -> ProviderFailure:
        """The model declined under its content policy (a refusal inside a 200)."""
        return ProviderFailure(
            self.name,
            FailureKind.CONTENT_POLICY,
            model=model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            detail=detail,
        )


def check_tool_calls(
    provider: SDKProvider,
    request: ChatRequest,
    calls: list[ToolCall],
    *,
    model: str,
    tokens: tuple[int, int],
) -> None:
    """Every call must name a tool that was offered."""
    offered = {tool.name for tool in request.tools}
    for call in calls:
        if call.name not in offered:
            raise provider.malformed(model, f"unknown tool {call.name!r}", *tokens)


def classify_sdk_error(
    provider: str,
    exc: Exception,
    model: str,
    *,
    timeout_error: type[Exception],
    connection_error: type[Exception],
    status_error: type[Exception],
    validation_error: type[Exception],
) -> ProviderFailure | None:
    """The three SDKs share one exception layout; each passes its own classes here.

    Order matters: the timeout class subclasses the connection class.
    """
    if isinstance(exc, timeout_error):
        return ProviderFailure(provider, FailureKind.TIMEOUT, model=model, detail="client timeout")
    if isinstance(exc, connection_error):
        return ProviderFailure(provider, FailureKind.UNREACHABLE, model=model, detail=str(exc))
    if isinstance(exc, status_error):
        response = getattr(exc, "response", None)
        # The SDK's (httpx) headers are case-insensitive; keep them that way.
        headers = response.headers if response is not None else {}
        status = int(getattr(exc, "status_code", 0) or 0)
        return classify_status(provider, status, headers, getattr(exc, "body", None), model=model)
    if isinstance(exc, validation_error):
        return ProviderFailure(
            provider, FailureKind.MALFORMED_OUTPUT, model=model, detail="response failed validation"
        )
    return None
