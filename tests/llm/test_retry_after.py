"""Retry-After: fail over at once and hold the provider; wait only when nothing else answers."""

from __future__ import annotations

import asyncio
import email.utils
import time

import pytest

from core.errors import ProviderUnavailableError
from core.llm.errors import MAX_RETRY_AFTER_SECONDS, parse_retry_after
from core.llm.types import ChatMessage, ChatRequest

from .conftest import FakeClock, RouterFactory
from .fakes import FakeLLMServer

Fakes = dict[str, FakeLLMServer]


def ask() -> ChatRequest:
    return ChatRequest(
        messages=[ChatMessage(role="user", content="Average order value?")],
        workspace="w-retry",
        cache=False,
    )


async def test_retry_after_skips_to_next_and_holds_the_provider(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    clock = FakeClock()
    openai, anthropic = fakes["openai"], fakes["anthropic"]
    openai.script(openai.rate_limited(retry_after=1), openai.text("OpenAI is back."))
    anthropic.script(anthropic.text("From Anthropic."), anthropic.text("Anthropic again."))
    router = make_router(clock=clock)
    loop = asyncio.get_running_loop()

    started = loop.time()
    first = await router.chat(ask())
    assert first.provider == "anthropic"
    assert loop.time() - started < 1.0  # did not sit out the Retry-After

    # Within the hold: openai is skipped without a request.
    second = await router.chat(ask())
    assert second.text == "Anthropic again."
    assert openai.request_count == 1

    clock.advance(1.0)  # the provider's Retry-After has passed
    third = await router.chat(ask())
    assert (third.provider, third.text) == ("openai", "OpenAI is back.")
    assert openai.request_count == 2 and anthropic.request_count == 2


async def test_waits_for_retry_after_when_the_chain_is_exhausted(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    openai = fakes["openai"]
    openai.script(openai.rate_limited(retry_after=1), openai.text("After waiting."))
    router = make_router(order=("openai",))

    response = await router.chat(ask())

    assert response.text == "After waiting."
    first, second = openai.requests
    assert second.at - first.at >= 1.0


async def test_retry_after_longer_than_allowed_wait_gives_up_at_once(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    openai = fakes["openai"]
    openai.script(openai.rate_limited(retry_after=30))
    router = make_router(order=("openai",), max_retry_wait_seconds=10.0)
    loop = asyncio.get_running_loop()

    started = loop.time()
    with pytest.raises(ProviderUnavailableError) as caught:
        await router.chat(ask())

    assert loop.time() - started < 1.0
    assert "openai: rate limited" in caught.value.user_message
    assert openai.request_count == 1
    assert router.breaker("openai").held_for > 29


async def test_retry_after_beyond_the_deadline_is_not_waited_for(
    fakes: Fakes, make_router: RouterFactory
) -> None:
    openai = fakes["openai"]
    openai.script(openai.rate_limited(retry_after=2))
    router = make_router(order=("openai",), deadline_seconds=1.0)

    with pytest.raises(ProviderUnavailableError):
        await router.chat(ask())
    assert openai.request_count == 1


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "1"}) == 1.0
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after({"retry-after": date}, now=now) or 0) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "999999"}) == MAX_RETRY_AFTER_SECONDS
