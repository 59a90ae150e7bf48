"""OpenAI through the official async SDK (Chat Completions)."""

from __future__ import annotations

import openai

from core.llm.errors import ProviderFailure
from core.llm.providers.base import SDKProvider, classify_sdk_error
from core.llm.providers.openai_compat import build_chat_kwargs, parse_completion
from core.llm.types import ChatRequest, ChatResponse

DEFAULT_MODEL = "gpt-4.1-mini"


class OpenAIProvider(SDKProvider):
    name = "openai"

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
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    @property
    def client(self) -> openai.AsyncOpenAI:
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
            timeout_error=openai.APITimeoutError,
            connection_error=openai.APIConnectionError,
            status_error=openai.APIStatusError,
            validation_error=openai.APIResponseValidationError,
        )

    async def aclose(self) -> None:
        await self._client.close()
