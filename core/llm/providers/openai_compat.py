"""Chat Completions wire format, shared by OpenAI and Groq (OpenAI-compatible API).

Both SDKs take the same keyword arguments, return objects of the same shape and
name their exceptions alike, so the translation and the provider frame live here
once; each provider module only names its SDK and default model.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any, ClassVar

from core.llm.errors import ProviderFailure
from core.llm.providers.base import SDKProvider, check_tool_calls, classify_sdk_error
from core.llm.types import ChatRequest, ChatResponse, ToolCall


def build_chat_kwargs(request: ChatRequest, model: str) -> dict[str, Any]:
    """Keyword arguments for ``client.chat.completions.create``."""
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "temperature": request.temperature,
        # ``max_tokens`` is deprecated (and refused by reasoning models) on both APIs.
        "max_completion_tokens": request.max_tokens,
    }
    if request.tools:
        kwargs["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                },
            }
            for tool in request.tools
        ]
        kwargs["tool_choice"] = request.tool_choice
    if request.response_schema is not None:
        schema = request.response_schema
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": schema.name,
                "schema": schema.json_schema,
                "strict": schema.strict,
            },
        }
    return kwargs


def parse_completion(
    provider: SDKProvider, request: ChatRequest, model: str, completion: Any
) -> ChatResponse:
    """A ChatCompletion (OpenAI or Groq) → ChatResponse, or a classified failure."""
    usage = getattr(completion, "usage", None)
    tokens = (
        int(getattr(usage, "prompt_tokens", 0) or 0),
        int(getattr(usage, "completion_tokens", 0) or 0),
    )
    answered_by = getattr(completion, "model", None) or model
    choices = getattr(completion, "choices", None) or []
    if not choices:
        raise provider.malformed(answered_by, "no choices in the reply", *tokens)
    choice = choices[0]
    message = choice.message
    finish_reason = getattr(choice, "finish_reason", None)
    refusal = getattr(message, "refusal", None)
    if finish_reason == "content_filter" or refusal:
        raise provider.refused(answered_by, f"finish_reason={finish_reason}", *tokens)

    calls: list[ToolCall] = []
    for raw in getattr(message, "tool_calls", None) or []:
        function = getattr(raw, "function", None)
        if function is None:  # a non-function ("custom") tool call we never offered
            raise provider.malformed(answered_by, "tool call without a function", *tokens)
        arguments = _json_object(function.arguments)
        if arguments is None:
            raise provider.malformed(
                answered_by, f"tool {function.name!r} arguments are not a JSON object", *tokens
            )
        calls.append(ToolCall(id=raw.id, name=function.name, arguments=arguments))
    check_tool_calls(provider, request, calls, model=answered_by, tokens=tokens)

    text = message.content or ""
    parsed: dict[str, Any] | None = None
    if request.response_schema is not None and not calls:
        parsed = _json_object(text)
        if parsed is None:
            raise provider.malformed(answered_by, "structured output is not a JSON object", *tokens)
    return ChatResponse(
        text=text,
        tool_calls=calls,
        parsed=parsed,
        provider=provider.name,
        model=answered_by,
        tokens_in=tokens[0],
        tokens_out=tokens[1],
        stop_reason=finish_reason,
    )


def _json_object(raw: object) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ChatCompletionsProvider(SDKProvider):
    """A provider speaking Chat Completions through an OpenAI-style SDK module.

    OpenAI's and Groq's SDKs share client arguments, call shape and exception names;
    subclasses name the module, its client class and their default model.
    """

    sdk: ClassVar[ModuleType]
    client_class: ClassVar[str]
    default_model_name: ClassVar[str]

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model: str | None = None,
        timeout_seconds: float = 20.0,
    ) -> None:
        super().__init__(model=model or self.default_model_name, timeout_seconds=timeout_seconds)
        # max_retries=0: the router owns retries and failover.
        self._client = getattr(self.sdk, self.client_class)(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    @property
    def client(self) -> Any:
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
            timeout_error=self.sdk.APITimeoutError,
            connection_error=self.sdk.APIConnectionError,
            status_error=self.sdk.APIStatusError,
            validation_error=self.sdk.APIResponseValidationError,
        )

    async def aclose(self) -> None:
        await self._client.close()
