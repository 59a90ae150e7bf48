"""Build the router from settings: only providers that have a key, in configured order.

The conversation core calls :func:`build_router` once per process and passes the
real usage ledger and quota guard; without them the router records and checks
nothing (``nexus ask`` runs that way).
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable

from pydantic import SecretStr
from redis.asyncio import Redis

from core.llm.accounting import BudgetGuard, UsageRecorder
from core.llm.cache import LLMCache
from core.llm.circuit import CircuitBreaker
from core.llm.observer import RouterObserver
from core.llm.pricing import ModelPrice, PriceTable
from core.llm.providers.base import Provider
from core.llm.router import LLMRouter
from core.logging import get_logger
from core.settings import Settings

log = get_logger("llm.factory")

KNOWN_PROVIDERS = ("openai", "anthropic", "groq")


_PROVIDER_CLASSES: dict[str, tuple[str, str]] = {
    "openai": ("core.llm.providers.openai_provider", "OpenAIProvider"),
    "anthropic": ("core.llm.providers.anthropic_provider", "AnthropicProvider"),
    "groq": ("core.llm.providers.groq_provider", "GroqProvider"),
}
"""Imported on first use: each SDK takes 0.5-3 s to import (anthropic's most), which
every ``nexus`` process paid at start even for providers it has no key for."""


def _provider_class(name: str) -> Callable[..., Provider]:
    module, attribute = _PROVIDER_CLASSES[name]
    cls: Callable[..., Provider] = getattr(importlib.import_module(module), attribute)
    return cls


def build_providers(settings: Settings) -> dict[str, Provider]:
    """One provider per configured key, keyed by name.

    Settings name each provider's fields alike (``<name>_api_key``, ``_base_url``,
    ``_model``), so one loop builds them all.
    """
    providers: dict[str, Provider] = {}
    for name in KNOWN_PROVIDERS:
        key: SecretStr | None = getattr(settings, f"{name}_api_key")
        if key is None:
            continue
        providers[name] = _provider_class(name)(
            api_key=key.get_secret_value(),
            base_url=getattr(settings, f"{name}_base_url"),
            model=getattr(settings, f"{name}_model"),
            timeout_seconds=settings.llm_timeout_seconds,
        )
    return providers


def default_chain(settings: Settings, available: set[str] | None = None) -> list[str]:
    """The configured chain, unknown and key-less names dropped, order kept."""
    names = [n.strip().lower() for n in settings.llm_provider_chain.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_PROVIDERS]
    if unknown:
        log.warning("llm.chain_unknown_providers", providers=unknown)
    names = [n for n in dict.fromkeys(names) if n in KNOWN_PROVIDERS]
    if available is None:
        return names
    skipped = [n for n in names if n not in available]
    if skipped:
        log.info("llm.providers_without_key", providers=skipped)
    return [n for n in names if n in available]


def build_router(
    settings: Settings,
    redis: Redis | None = None,
    *,
    usage: UsageRecorder | None = None,
    budget: BudgetGuard | None = None,
    clock: Callable[[], float] = time.monotonic,
    cache_prefix: str = "nexus:llm",
    observer: RouterObserver | None = None,
    wrap_provider: Callable[[Provider], Provider] | None = None,
) -> LLMRouter:
    """The production router; ``redis`` enables the deterministic-call cache.

    ``wrap_provider`` wraps each provider (PII redaction, core/governance) so every
    external call passes through it."""
    providers = build_providers(settings)
    if wrap_provider is not None:
        providers = {name: wrap_provider(provider) for name, provider in providers.items()}
    chain = default_chain(settings, set(providers))
    log.info("llm.providers", chain=chain, configured=sorted(providers))
    overrides = {m: ModelPrice(i, o) for m, (i, o) in settings.llm_prices.items()}
    cache = (
        LLMCache(redis, ttl_seconds=settings.llm_cache_ttl_seconds, prefix=cache_prefix)
        if redis is not None
        else None
    )
    # Every keyed provider is available to workspace chains; the default chain orders them.
    ordered = chain + [name for name in providers if name not in chain]
    return LLMRouter(
        [providers[name] for name in ordered],
        prices=PriceTable(overrides=overrides),
        default_chain=chain,
        breaker_factory=functools.partial(
            CircuitBreaker,
            failure_threshold=settings.llm_breaker_failures,
            cooldown_seconds=settings.llm_breaker_cooldown_seconds,
            clock=clock,
        ),
        cache=cache,
        usage=usage,
        budget=budget,
        deadline_seconds=settings.llm_deadline_seconds,
        observer=observer,
    )
