"""Fake OpenAI, Anthropic and Groq servers that speak each wire format, scripted per test.

One aiohttp app on 127.0.0.1 (port 0) per provider. A test queues responses
(``server.script(server.text("hi"), server.rate_limited(1))``); each request pops the
next one. Every request is recorded with its arrival time on the event loop's clock,
its path, headers and JSON body, so tests assert what reached the wire and when.

Shapes follow the real APIs, including usage blocks and error envelopes:
- OpenAI: ``POST {base}/chat/completions`` with base ``http://host/v1``; errors
  ``{"error": {"message", "type", "param", "code"}}``.
- Groq: ``POST /openai/v1/chat/completions``; same shapes plus ``x_groq`` and timing
  fields in ``usage``.
- Anthropic: ``POST /v1/messages``; content blocks; errors
  ``{"type": "error", "error": {"type", "message"}, "request_id"}``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

Dialect = Literal["openai", "anthropic", "groq"]

PATHS: dict[str, str] = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "groq": "/openai/v1/chat/completions",
}
MODELS: dict[str, str] = {
    "openai": "gpt-4.1-mini-2025-04-14",
    "anthropic": "claude-haiku-4-5-20251001",
    "groq": "openai/gpt-oss-120b",
}
_ids = itertools.count(1)


@dataclass
class Scripted:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    # A slow reply waits for this event (set by the test or at shutdown), so a
    # client timeout, not a sleep, decides the outcome.
    hold: asyncio.Event | None = None


@dataclass
class Recorded:
    at: float
    path: str
    headers: dict[str, str]
    json: dict[str, Any]


class FakeLLMServer:
    """One provider's HTTP API, answering from a per-test script."""

    def __init__(self, dialect: Dialect, *, api_key: str | None = None) -> None:
        self.dialect = dialect
        self.api_key = api_key or f"test-{dialect}-key"
        self.requests: list[Recorded] = []
        self._queue: deque[Scripted] = deque()
        self._holds: list[asyncio.Event] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(PATHS[self.dialect], self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        for event in self._holds:
            event.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What the SDK takes as ``base_url`` (OpenAI's includes ``/v1``)."""
        root = f"http://127.0.0.1:{self.port}"
        return f"{root}/v1" if self.dialect == "openai" else root

    def script(self, *responses: Scripted) -> None:
        self._queue.extend(responses)

    @property
    def request_count(self) -> int:
        return len(self.requests)

    # -- the handler -------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(
            Recorded(asyncio.get_running_loop().time(), request.path, dict(request.headers), body)
        )
        if not self._authorized(request):
            return self._respond(self.auth_error())
        reply = self._queue.popleft() if self._queue else self.server_error(500, "nothing scripted")
        if reply.hold is not None:
            await reply.hold.wait()
        return self._respond(reply)

    def _authorized(self, request: web.Request) -> bool:
        bearer = request.headers.get("Authorization", "")
        return (
            bearer == f"Bearer {self.api_key}" or request.headers.get("x-api-key") == self.api_key
        )

    @staticmethod
    def _respond(reply: Scripted) -> web.Response:
        text = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        return web.Response(
            status=reply.status, text=text, content_type="application/json", headers=reply.headers
        )

    # -- successes -----------------------------------------------------------------
    def text(
        self, text: str, *, tokens_in: int = 11, tokens_out: int = 7, model: str | None = None
    ) -> Scripted:
        model = model or MODELS[self.dialect]
        if self.dialect == "anthropic":
            content = [{"type": "text", "text": text}]
            return Scripted(200, self._message(content, "end_turn", tokens_in, tokens_out, model))
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text,
            "refusal": None,
            "annotations": [],
        }
        return Scripted(200, self._completion(message, "stop", tokens_in, tokens_out, model))

    def tool_call(
        self,
        name: str,
        arguments: dict[str, Any] | str,
        *,
        tokens_in: int = 40,
        tokens_out: int = 12,
    ) -> Scripted:
        """A tool call; a ``str`` is sent verbatim as the arguments (malformed JSON)."""
        model = MODELS[self.dialect]
        call_id = f"{next(_ids):04d}"
        if self.dialect == "anthropic":
            block = {
                "type": "tool_use",
                "id": f"toolu_01{call_id}",
                "name": name,
                "input": arguments,
            }
            return Scripted(200, self._message([block], "tool_use", tokens_in, tokens_out, model))
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        call = {
            "id": f"call_{call_id}",
            "type": "function",
            "function": {"name": name, "arguments": raw},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
        return Scripted(200, self._completion(message, "tool_calls", tokens_in, tokens_out, model))

    def slow(self, hold: asyncio.Event | None = None) -> Scripted:
        """A reply that arrives only when ``hold`` is set (after the client gave up)."""
        event = hold or asyncio.Event()
        self._holds.append(event)
        reply = self.text("too late")
        reply.hold = event
        return reply

    def _completion(
        self, message: dict[str, Any], finish: str, tokens_in: int, tokens_out: int, model: str
    ) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        }
        body: dict[str, Any] = {
            "id": f"chatcmpl-{next(_ids):06d}",
            "object": "chat.completion",
            "created": 1_763_800_000,
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": usage,
            "system_fingerprint": "fp_fake",
        }
        if self.dialect == "groq":
            usage.update(queue_time=0.01, prompt_time=0.002, completion_time=0.02, total_time=0.03)
            body["x_groq"] = {"id": f"req_{next(_ids):06d}"}
        else:
            usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
            usage["completion_tokens_details"] = {"reasoning_tokens": 0, "audio_tokens": 0}
            body["service_tier"] = "default"
        return body

    @staticmethod
    def _message(
        content: list[dict[str, Any]], stop: str, tokens_in: int, tokens_out: int, model: str
    ) -> dict[str, Any]:
        return {
            "id": f"msg_01{next(_ids):06d}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "service_tier": "standard",
            },
        }

    # -- failures --------------------------------------------------------------------
    def _error(self, status: int, kind: str, message: str, code: str | None) -> Scripted:
        if self.dialect == "anthropic":
            body: dict[str, Any] = {
                "type": "error",
                "error": {"type": kind, "message": message},
                "request_id": f"req_011{next(_ids):06d}",
            }
        else:
            body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return Scripted(status, body)

    def rate_limited(self, retry_after: int | None = 1) -> Scripted:
        if self.dialect == "anthropic":
            reply = self._error(
                429, "rate_limit_error", "This request would exceed your rate limit.", None
            )
        else:
            reply = self._error(
                429,
                "tokens",
                "Rate limit reached for requests. Please try again in 1s.",
                "rate_limit_exceeded",
            )
        if retry_after is not None:
            reply.headers["retry-after"] = str(retry_after)
        return reply

    def server_error(self, status: int = 500, message: str = "Internal server error") -> Scripted:
        kind = "api_error" if self.dialect == "anthropic" else "server_error"
        return self._error(status, kind, message, None)

    def auth_error(self) -> Scripted:
        if self.dialect == "anthropic":
            return self._error(401, "authentication_error", "invalid x-api-key", None)
        return self._error(
            401, "invalid_request_error", "Incorrect API key provided: sk-****.", "invalid_api_key"
        )

    def content_policy(self) -> Scripted:
        """OpenAI/Groq: a 400 flagged by the safety system. Anthropic has no such 400:
        it answers 200 with ``stop_reason: "refusal"``, which is what it gets here."""
        if self.dialect == "anthropic":
            return Scripted(200, self._message([], "refusal", 25, 0, MODELS["anthropic"]))
        return self._error(
            400,
            "invalid_request_error",
            "Your request was rejected as a result of our safety system.",
            "content_policy_violation",
        )
