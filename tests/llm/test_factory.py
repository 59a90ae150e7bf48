"""Building the router from settings: keyed providers only, configured order, real SDKs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from core.errors import ProviderUnavailableError
from core.llm.factory import build_router
from core.llm.router import NO_PROVIDER_MESSAGE
from core.llm.types import ChatMessage, ChatRequest
from core.settings import Settings

from .fakes import FakeLLMServer

Fakes = dict[str, FakeLLMServer]


def settings_for(fakes: Fakes, *names: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "openai_api_key": None,
        "anthropic_api_key": None,
        "groq_api_key": None,
    }
    for name in names:
        values[f"{name}_api_key"] = SecretStr(fakes[name].api_key)
        values[f"{name}_base_url"] = fakes[name].base_url
    return Settings(_env_file=None, **values, **extra)


def ask() -> ChatRequest:
    return ChatRequest(
        messages=[ChatMessage(role="user", content="Rows per region?")], workspace="w-factory"
    )


async def test_only_keyed_providers_in_configured_order(fakes: Fakes) -> None:
    settings = settings_for(
        fakes,
        "openai",
        "groq",
        llm_provider_chain="groq, anthropic, openai, bogus",
        llm_timeout_seconds=4.0,
    )
    router = build_router(settings)
    try:
        assert router.default_chain == ["groq", "openai"]
        fakes["groq"].script(fakes["groq"].server_error(500))
        fakes["openai"].script(fakes["openai"].text("From OpenAI."))
        response = await router.chat(ask())
        assert response.provider == "openai"
        assert fakes["groq"].requests[0].json["model"] == settings.groq_model
        for name in ("groq", "openai"):
            client = router.provider(name).client  # type: ignore[attr-defined]
            assert (client.max_retries, client.timeout) == (0, 4.0)
    finally:
        await router.aclose()


async def test_cache_and_price_overrides_come_from_settings(fakes: Fakes) -> None:
    settings = settings_for(
        fakes, "anthropic", llm_prices={"claude-haiku-4-5": (10.0, 20.0)}, llm_cache_ttl_seconds=60
    )
    redis = Redis(host="127.0.0.1", port=6379)
    prefix = f"test:{uuid.uuid4().hex}:nexus:llm"
    router = build_router(settings, redis, cache_prefix=prefix)
    try:
        fakes["anthropic"].script(fakes["anthropic"].text("ok", tokens_in=1000, tokens_out=1000))
        first = await router.chat(ask())
        second = await router.chat(ask())
        assert first.cost_usd == pytest.approx((1000 * 10.0 + 1000 * 20.0) / 1e6)
        assert second.cached and fakes["anthropic"].request_count == 1
    finally:
        await router.aclose()
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_no_keys_means_a_clear_message(fakes: Fakes) -> None:
    router = build_router(settings_for(fakes))
    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask())
    assert caught.value.user_message == NO_PROVIDER_MESSAGE
