"""Anthropic through the official async SDK (Messages API).

Differences from Chat Completions handled here: the system prompt is a separate
parameter, tools carry ``input_schema``, tool calls arrive as ``tool_use`` content
blocks with already-parsed ``input``, a forced tool call is ``tool_choice: any``,
structured output is ``output_config.format``, a refusal is a 200 with
``stop_reason: "refusal"``, and there is no ``temperature`` (the 2.x SDK and API
dropped sampling parameters; ``ChatRequest.temperature`` still decides caching).
"""

from __future__ import annotations

import json
from typing import Any

import anthropic

from core.llm.errors import ProviderFailure
from core.llm.providers.base import SDKProvider, check_tool_calls, classify_sdk_error
from core.llm.types import ChatRequest, ChatResponse, ToolCall

DEFAULT_MODEL = "claude-haiku-4-5"


def build_message_kwargs(request: ChatRequest, model: str) -> dict[str, Any]:
    """Keyword arguments for ``client.messages.create``."""
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    kwargs: dict[str, Any] = {
        "model": model,
        "max_tokens": request.max_tokens,
        # No temperature: the Messages API of SDK 2.x has no sampling parameters.
        "messages": [
            {"role": m.role, "content": m.content} for m in request.messages if m.role != "system"
        ],
    }
    if system:
        kwargs["system"] = system
    if request.tools:
        kwargs["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
        kwargs["tool_choice"] = {"type": "any" if request.tool_choice == "required" else "auto"}
    if request.response_schema is not None:
        kwargs["output_config"] = {
            "format": {"type": "json_schema", "schema": request.response_schema.json_schema}
        }
    return kwargs


class AnthropicProvider(SDKProvider):
    name = "anthropic"

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
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0
        )

    @property
    def client(self) -> anthropic.AsyncAnthropic:
        return self._client

    async def _call(self, request: ChatRequest, model: str, time_limit: float) -> ChatResponse:
        message = await self._client.messages.create(
            **build_message_kwargs(request, model), timeout=time_limit
        )
        return self._parse(request, model, message)

    def _parse(self, request: ChatRequest, model: str, message: Any) -> ChatResponse:
        usage = message.usage
        # Prompt-cache reads and writes are input tokens too (billed differently, but
        # counting them at the input price keeps the ledger on the safe side).
        tokens_in = (
            int(usage.input_tokens or 0)
            + int(getattr(usage, "cache_creation_input_tokens", 0) or 0)
            + int(getattr(usage, "cache_read_input_tokens", 0) or 0)
        )
        tokens = (tokens_in, int(usage.output_tokens or 0))
        answered_by = message.model or model
        if message.stop_reason == "refusal":
            raise self.refused(answered_by, "stop_reason=refusal", *tokens)

        texts: list[str] = []
        calls: list[ToolCall] = []
        for block in message.content or []:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                arguments = block.input
                if isinstance(arguments, str):  # tolerate JSON-as-string from proxies
                    try:
                        arguments = json.loads(arguments)
                    except ValueError:
                        arguments = None
                if not isinstance(arguments, dict):
                    raise self.malformed(
                        answered_by, f"tool {block.name!r} input is not a JSON object", *tokens
                    )
                calls.append(ToolCall(id=block.id, name=block.name, arguments=arguments))
        check_tool_calls(self, request, calls, model=answered_by, tokens=tokens)

        text = "".join(texts)
        parsed: dict[str, Any] | None = None
        if request.response_schema is not None and not calls:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if not isinstance(value, dict):
                raise self.malformed(answered_by, "structured output is not a JSON object", *tokens)
            parsed = value
        return ChatResponse(
            text=text,
            tool_calls=calls,
            parsed=parsed,
            provider=self.name,
            model=answered_by,
            tokens_in=tokens[0],
            tokens_out=tokens[1],
            stop_reason=message.stop_reason,
        )

    def _classify(self, exc: Exception, model: str) -> ProviderFailure | None:
        return classify_sdk_error(
            self.name,
            exc,
            model,
            timeout_error=anthropic.APITimeoutError,
            connection_error=anthropic.APIConnectionError,
            status_error=anthropic.APIStatusError,
            validation_error=anthropic.APIResponseValidationError,
        )

    async def aclose(self) -> None:
        await self._client.close()
