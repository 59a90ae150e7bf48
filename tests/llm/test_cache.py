"""The Redis cache of temperature-0 calls: hits, workspace isolation, TTL, Redis down."""

from __future__ import annotations

from redis.asyncio import Redis

from core.llm.accounting import InMemoryUsageRecorder
from core.llm.cache import LLMCache, request_hash
from core.llm.types import ChatMessage, ChatRequest

from .conftest import RouterFactory
from .fakes import FakeLLMServer

Fakes = dict[str, FakeLLMServer]


def ask(workspace: str = "w-a", **changes: object) -> ChatRequest:
    base: dict[str, object] = {
        "messages": [ChatMessage(role="user", content="Top 3 products by revenue?")],
        "workspace": workspace,
        "user": "bob",
    }
    return ChatRequest.model_validate({**base, **changes})


async def test_second_identical_call_is_a_cache_hit(
    fakes: Fakes, make_router: RouterFactory, cache: LLMCache, redis_client: Redis
) -> None:
    openai = fakes["openai"]
    openai.script(openai.text("A, B, C.", tokens_in=50, tokens_out=5))
    usage = InMemoryUsageRecorder()
    router = make_router(cache=cache, usage=usage)

    first = await router.chat(ask())
    second = await router.chat(ask(user="carol"))  # a teammate, same question

    assert openai.request_count == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.text == first.text and second.provider == "openai"
    assert (second.tokens_in, second.tokens_out, second.cost_usd) == (0, 0, 0.0)
    assert len(usage.records) == 1  # the hit cost nothing and recorded nothing

    key = cache.key(ask(), "gpt-4.1-mini")
    assert key.endswith(f":w-a:gpt-4.1-mini:{request_hash(ask())}")
    assert 0 < await redis_client.ttl(key) <= 300


async def test_cache_is_isolated_per_workspace(
    fakes: Fakes, make_router: RouterFactory, cache: LLMCache
) -> None:
    openai = fakes["openai"]
    openai.script(openai.text("For A."), openai.text("For B."))
    router = make_router(cache=cache)

    await router.chat(ask("w-a"))
    other = await router.chat(ask("w-b"))

    assert (other.text, other.cached) == ("For B.", False)
    assert openai.request_count == 2


async def test_nonzero_temperature_and_opt_out_are_not_cached(
    fakes: Fakes, make_router: RouterFactory, cache: LLMCache
) -> None:
    openai = fakes["openai"]
    openai.script(*(openai.text(f"answer {i}") for i in range(4)))
    router = make_router(cache=cache)

    for _ in range(2):
        await router.chat(ask(temperature=0.7))
    for _ in range(2):
        await router.chat(ask(cache=False))

    assert openai.request_count == 4


async def test_answer_from_a_fallback_provider_is_reused(
    fakes: Fakes, make_router: RouterFactory, cache: LLMCache
) -> None:
    openai, anthropic = fakes["openai"], fakes["anthropic"]
    openai.script(openai.server_error(500))
    anthropic.script(anthropic.text("From Anthropic."))
    router = make_router(cache=cache)

    await router.chat(ask())
    again = await router.chat(ask())

    assert (again.provider, again.cached) == ("anthropic", True)
    assert openai.request_count == 1 and anthropic.request_count == 1


async def test_redis_down_means_no_cache_not_no_answer(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    openai = fakes["openai"]
    openai.script(openai.text("still answered"))
    router = make_router(cache=LLMCache(dead, ttl_seconds=60))
    try:
        assert (await router.chat(ask())).text == "still answered"
    finally:
        await dead.aclose()
