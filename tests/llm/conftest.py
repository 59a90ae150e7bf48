"""Fixtures for the LLM layer: the three fake servers, real Redis, a router builder."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from core.llm.cache import LLMCache
from core.llm.circuit import CircuitBreaker
from core.llm.pricing import PriceTable
from core.llm.providers.anthropic_provider import AnthropicProvider
from core.llm.providers.base import Provider
from core.llm.providers.groq_provider import GroqProvider
from core.llm.providers.openai_provider import OpenAIProvider
from core.llm.router import LLMRouter

from .fakes import FakeLLMServer

DIALECTS = ("openai", "anthropic", "groq")


class FakeClock:
    """A monotonic clock the test moves by hand (breakers and holds read it)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def fakes() -> AsyncIterator[dict[str, FakeLLMServer]]:
    servers = {dialect: FakeLLMServer(dialect) for dialect in DIALECTS}  # type: ignore[arg-type]
    for server in servers.values():
        await server.start()
    yield servers
    for server in servers.values():
        await server.stop()


def make_provider(server: FakeLLMServer, *, timeout: float = 2.0) -> Provider:
    kinds: dict[str, Any] = {
        "openai": OpenAIProvider,
        "anthropic": AnthropicProvider,
        "groq": GroqProvider,
    }
    return kinds[server.dialect](
        api_key=server.api_key, base_url=server.base_url, timeout_seconds=timeout
    )


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = Redis(host="127.0.0.1", port=6379)
    yield client
    await client.aclose()


@pytest.fixture
async def cache(redis_client: Redis) -> AsyncIterator[LLMCache]:
    """A cache under a prefix unique to this test; its keys are deleted afterwards."""
    prefix = f"test:{uuid.uuid4().hex}:nexus:llm"
    yield LLMCache(redis_client, ttl_seconds=300, prefix=prefix)
    keys = [key async for key in redis_client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await redis_client.delete(*keys)


RouterFactory = Callable[..., LLMRouter]


@pytest.fixture
async def make_router(fakes: dict[str, FakeLLMServer]) -> AsyncIterator[RouterFactory]:
    """Build a router over the fakes; every SDK client is closed at teardown."""
    routers: list[LLMRouter] = []

    def build(
        *,
        order: tuple[str, ...] = DIALECTS,
        timeout: float = 2.0,
        clock: Callable[[], float] | None = None,
        threshold: int = 3,
        cooldown: float = 30.0,
        **kwargs: Any,
    ) -> LLMRouter:
        def breaker(name: str) -> CircuitBreaker:
            if clock is None:
                return CircuitBreaker(name, failure_threshold=threshold, cooldown_seconds=cooldown)
            return CircuitBreaker(
                name, failure_threshold=threshold, cooldown_seconds=cooldown, clock=clock
            )

        kwargs.setdefault("prices", PriceTable())
        router = LLMRouter(
            [make_provider(fakes[name], timeout=timeout) for name in order],
            breaker_factory=breaker,
            **kwargs,
        )
        routers.append(router)
        return router

    yield build
    for router in routers:
        await router.aclose()
