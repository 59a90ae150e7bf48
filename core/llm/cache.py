"""A Redis cache of deterministic (temperature-0) LLM calls, per workspace.

Key: ``{prefix}:{workspace}:{model}:{sha256(canonical request JSON)}``. The workspace
is in the key, so one workspace never reads another's answers (design principle 6);
the user is not, so teammates asking the same thing share the answer. The model is
the one requested from the provider that answered: a lookup tries each model of the
chain in chain order, so an answer Anthropic gave while OpenAI was down is reused
rather than recomputed.

The cache is an optimisation: a Redis error is logged and treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.llm.types import ChatRequest, ChatResponse
from core.logging import get_logger

log = get_logger("llm.cache")

# Bump when the hashed request shape or the cached response shape changes.
_FORMAT = "v1"


def request_hash(request: ChatRequest) -> str:
    """sha256 of the request as the model sees it (no workspace, user or routing)."""
    payload = request.model_dump(mode="json", exclude={"workspace", "user", "models", "cache"})
    canonical = json.dumps([_FORMAT, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class LLMCache:
    """Stores and finds :class:`ChatResponse` objects for cacheable requests."""

    def __init__(self, redis: Redis, *, ttl_seconds: int, prefix: str = "nexus:llm") -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._prefix = prefix

    @staticmethod
    def cacheable(request: ChatRequest) -> bool:
        return request.cache and request.temperature == 0

    def key(self, request: ChatRequest, model: str) -> str:
        return f"{self._prefix}:{request.workspace}:{model}:{request_hash(request)}"

    async def get(self, request: ChatRequest, models: Sequence[str]) -> ChatResponse | None:
        """The first cached answer among ``models`` (in order), marked ``cached``."""
        if not models or not self.cacheable(request):
            return None
        keys = [self.key(request, model) for model in dict.fromkeys(models)]
        try:
            values = await self._redis.mget(keys)
        except RedisError as exc:
            log.warning("llm.cache_unavailable", op="get", error=type(exc).__name__)
            return None
        for raw in values:
            if raw is None:
                continue
            try:
                stored = ChatResponse.model_validate_json(raw)
            except ValueError:
                continue  # an older or foreign format: treat as a miss
            return stored.model_copy(
                update={"cached": True, "tokens_in": 0, "tokens_out": 0, "cost_usd": 0.0}
            )
        return None

    async def put(self, request: ChatRequest, model: str, response: ChatResponse) -> None:
        """Store under the *requested* model (the reply may name a dated snapshot)."""
        if not self.cacheable(request) or response.cached:
            return
        try:
            await self._redis.set(
                self.key(request, model), response.model_dump_json(), ex=self._ttl
            )
        except RedisError as exc:
            log.warning("llm.cache_unavailable", op="put", error=type(exc).__name__)
