"""Groq through its official async SDK (OpenAI-compatible API under ``/openai/v1``)."""

from __future__ import annotations

import groq

from core.llm.errors import ProviderFailure
from core.llm.providers.base import SDKProvider, classify_sdk_error
from core.llm.providers.openai_compat import build_chat_kwargs, parse_completion
from core.llm.types import ChatRequest, ChatResponse

# Supports tool use and json_schema structured output on Groq.
DEFAULT_MODEL = "openai/gpt-oss-120b"


class GroqProvider(SDKProvider):
    name = "groq"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout_seconds: float = 20.0,
    ) -> None:
        super().__init__(model=model, timeout_seconds=timeout_seconds)
        # max_retries=0: the router owns retries and failover.
        self._client = groq.AsyncGroq(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    @property
    def client(self) -> groq.AsyncGroq:
        return self._client

    async def _call(self, request: ChatRequest, model: str, time_limit: float) -> ChatResponse:
        completion = await self._client.chat.completions.create(
            **build_chat_kwargs(request, model), timeout=time_limit
        )
        return parse_completion(self, request, model, completion)

    def _classify(self, exc: Exception, model: str) -> ProviderFailure | None:
        return classify_sdk_error(
            self.name,
            exc,
            model,
            timeout_error=groq.APITimeoutError,
            connection_error=groq.APIConnectionError,
            status_error=groq.APIStatusError,
            validation_error=groq.APIResponseValidationError,
        )

    async def aclose(self) -> None:
        await self._client.close()
