"""The LLM router: cache, budget, an ordered provider chain, failover, one deadline.

``chat`` does, in order:

1. Cache: a temperature-0 request already answered in this workspace is returned
   with ``cached=True`` (no budget check, no provider call, nothing recorded).
2. Budget: ``BudgetGuard.check`` with the highest estimate over the chain's models;
   ``QuotaExceededError`` propagates before any provider is called.
3. Chain: providers are tried in order. A provider whose breaker is open, or that
   is under a Retry-After hold, is skipped without a request. Retryable failures
   (429, 5xx, timeout, unreachable, malformed output) fail over to the next
   provider; fatal ones (auth, bad request, content policy) stop at once with a
   ``ProviderRequestError`` naming the provider.
4. Retry-After policy: a provider's Retry-After never makes the router wait while
   another provider may answer; it fails over at once and the provider is held
   (skipped, this call and later ones) until the time it asked for. Only when the
   whole chain has failed, and the earliest Retry-After ends within both
   ``max_retry_wait_seconds`` and the remaining deadline, does the router sleep
   until then and retry those providers once. Otherwise it gives up.
5. Deadline: the whole of it runs under ``asyncio.timeout_at(deadline)``, and each
   attempt's SDK timeout is capped by what is left, so the deadline holds even
   when every provider hangs. Pass one :class:`Deadline` to every call of an
   analysis to bound the analysis as a whole.
6. Accounting: every billed reply (successes, and malformed or refused replies that
   still cost tokens) is priced from the price table and recorded through the
   ``UsageRecorder``; the answer is cached.

When nothing answers, ``ProviderUnavailableError`` says what happened to each
provider, e.g. ``(openai: rate limited, anthropic: 500, groq: timeout)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from core.errors import ProviderUnavailableError
from core.llm.accounting import BudgetGuard, UsageRecorder
from core.llm.attempts import Attempts, Spend
from core.llm.cache import LLMCache
from core.llm.circuit import CircuitBreaker
from core.llm.errors import ProviderFailure, rejection_error
from core.llm.observer import NoObserver, RouterObserver
from core.llm.pricing import PriceTable
from core.llm.providers.base import Provider
from core.llm.types import ChatRequest, ChatResponse, Deadline
from core.logging import get_logger

log = get_logger("llm.router")

NO_PROVIDER_MESSAGE = (
    "No AI provider is configured for this workspace, so this question can't use AI. "
    "An operator needs to add an API key."
)


class LLMRouter:
    """Routes chat calls over an ordered chain of providers; see the module docstring."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        prices: PriceTable | None = None,
        default_chain: Sequence[str] | None = None,
        breaker_factory: Callable[[str], CircuitBreaker] = CircuitBreaker,
        cache: LLMCache | None = None,
        usage: UsageRecorder | None = None,
        budget: BudgetGuard | None = None,
        deadline_seconds: float = 60.0,
        max_retry_wait_seconds: float = 10.0,
        observer: RouterObserver | None = None,
    ) -> None:
        self._providers = {provider.name: provider for provider in providers}
        self._default_chain = list(default_chain or self._providers)
        self._breakers = {name: breaker_factory(name) for name in self._providers}
        self._prices = prices or PriceTable()
        self._cache = cache
        self._usage = usage
        self._budget = budget
        self._deadline_seconds = deadline_seconds
        self._max_retry_wait = max_retry_wait_seconds
        self._observer: RouterObserver = observer or NoObserver()

    @property
    def default_chain(self) -> list[str]:
        return list(self._default_chain)

    @property
    def provider_names(self) -> list[str]:
        return list(self._providers)

    def breaker(self, provider: str) -> CircuitBreaker:
        return self._breakers[provider]

    def provider(self, name: str) -> Provider:
        return self._providers[name]

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()

    async def chat(
        self,
        request: ChatRequest,
        *,
        chain: Sequence[str] | None = None,
        deadline: Deadline | None = None,
    ) -> ChatResponse:
        """Answer ``request`` from the first provider in ``chain`` that can."""
        providers = self._resolve(chain)
        if not providers:
            raise ProviderUnavailableError(NO_PROVIDER_MESSAGE)
        deadline = deadline or Deadline.within(self._deadline_seconds)
        models = [provider.model_for(request) for provider in providers]
        if self._cache is not None:
            hit = await self._cache.get(request, models)
            if hit is not None:
                log.info("llm.cache_hit", workspace=request.workspace, provider=hit.provider)
                self._observer.llm_call(hit.provider, hit.model, "cached")
                return hit
        if self._budget is not None:
            estimate = max(self._prices.estimate(request, model) for model in models)
            await self._budget.check(request.workspace, estimate)

        attempts = Attempts()
        try:
            async with asyncio.timeout_at(deadline.at):
                response = await self._run_chain(request, providers, deadline, attempts)
        except TimeoutError:
            if attempts.current is not None:
                attempts.outcomes[attempts.current] = "timeout"
            log.warning("llm.deadline_reached", workspace=request.workspace)
            raise attempts.outage_error([p.name for p in providers]) from None
        finally:
            await self._record_spend(request, attempts)
        if self._cache is not None:
            await self._cache.put(request, attempts.answered_model, response)
        return response

    def _resolve(self, chain: Sequence[str] | None) -> list[Provider]:
        names = list(dict.fromkeys(self._default_chain if chain is None else chain))
        missing = [name for name in names if name not in self._providers]
        if missing:
            # A workspace may list a provider this deployment has no key for.
            log.info("llm.chain_providers_unconfigured", providers=missing)
        return [self._providers[name] for name in names if name in self._providers]

    async def _run_chain(
        self,
        request: ChatRequest,
        providers: list[Provider],
        deadline: Deadline,
        attempts: Attempts,
    ) -> ChatResponse:
        candidates = providers
        failed: str | None = None
        for pass_number in (1, 2):
            for provider in candidates:
                if failed is not None:
                    self._observer.llm_failover(failed, provider.name)
                response = await self._attempt(provider, request, deadline, attempts)
                if response is not None:
                    return response
                failed = provider.name
            if pass_number == 2 or not attempts.retry_at:
                break
            loop_now = asyncio.get_running_loop().time()
            wait = max(0.0, min(attempts.retry_at.values()) - loop_now)
            if wait > min(self._max_retry_wait, deadline.remaining()):
                break
            # Every provider failed and one asked us to come back soon enough.
            log.info(
                "llm.retry_after_wait", seconds=round(wait, 3), providers=list(attempts.retry_at)
            )
            # A hair over, so the provider's hold has surely ended when we look.
            await asyncio.sleep(wait + 0.01)
            candidates = [p for p in providers if p.name in attempts.retry_at]
            attempts.retry_at.clear()
        raise attempts.outage_error([p.name for p in providers])

    async def _attempt(
        self,
        provider: Provider,
        request: ChatRequest,
        deadline: Deadline,
        attempts: Attempts,
    ) -> ChatResponse | None:
        """One provider, once: a priced response, ``None`` to fail over, or a raise."""
        name = provider.name
        if deadline.remaining() <= 0:
            return None  # reported as "no time left"
        breaker = self._breakers[name]
        if not breaker.allow():
            held = breaker.held_for > 0
            attempts.outcomes[name] = "rate limited" if held else "paused after repeated errors"
            log.info("llm.provider_skipped", provider=name, held=held, state=breaker.state.value)
            return None
        attempts.current = name
        try:
            response = await provider.complete(request, time_limit=deadline.remaining())
        except ProviderFailure as failure:
            attempts.current = None
            self._note_failure(breaker, failure, attempts, request)
            if not failure.retryable:
                raise rejection_error(failure) from failure
            return None
        except asyncio.CancelledError:
            breaker.record_neutral()  # the deadline, not the provider, ended this attempt
            raise
        attempts.current = None
        breaker.record_success()
        self._observer.llm_call(name, response.model, "ok")
        cost = self._prices.cost(response.model, response.tokens_in, response.tokens_out)
        response = response.model_copy(update={"cost_usd": cost})
        attempts.spent.append(
            Spend(name, response.model, response.tokens_in, response.tokens_out, cost)
        )
        attempts.answered_model = provider.model_for(request)
        log.info(
            "llm.answered",
            workspace=request.workspace,
            provider=name,
            model=response.model,
            tokens_in=response.tokens_in,
            tokens_out=response.tokens_out,
            cost_usd=cost,
            latency_ms=round(response.latency_ms, 1),
        )
        return response

    def _note_failure(
        self,
        breaker: CircuitBreaker,
        failure: ProviderFailure,
        attempts: Attempts,
        request: ChatRequest,
    ) -> None:
        name = failure.provider
        if failure.unhealthy:
            breaker.record_failure()
        else:
            breaker.record_neutral()
        if failure.retryable and failure.retry_after is not None:
            breaker.hold(failure.retry_after)
            now = asyncio.get_running_loop().time()
            attempts.retry_at[name] = now + failure.retry_after
        if failure.tokens_in or failure.tokens_out:
            model = failure.model or "unknown"
            cost = self._prices.cost(model, failure.tokens_in, failure.tokens_out)
            attempts.spent.append(Spend(name, model, failure.tokens_in, failure.tokens_out, cost))
        attempts.outcomes[name] = failure.label
        self._observer.llm_call(name, failure.model or "unknown", failure.kind.value)
        log.warning(
            "llm.provider_failed",
            workspace=request.workspace,
            provider=name,
            kind=failure.kind.value,
            status=failure.status,
            retry_after=failure.retry_after,
            breaker=breaker.state.value,
        )

    async def _record_spend(self, request: ChatRequest, attempts: Attempts) -> None:
        for spend in attempts.spent:
            self._observer.llm_spend(
                spend.provider, spend.model, spend.tokens_in, spend.tokens_out, spend.cost_usd
            )
        if self._usage is None:
            return
        for spend in attempts.spent:
            try:
                await self._usage.record_llm_usage(
                    workspace=request.workspace,
                    user=request.user,
                    provider=spend.provider,
                    model=spend.model,
                    tokens_in=spend.tokens_in,
                    tokens_out=spend.tokens_out,
                    cost_usd=spend.cost_usd,
                )
            except Exception as exc:
                # The answer is already paid for; losing it over a ledger write would
                # charge the user twice when they ask again. Log loudly instead.
                log.error("llm.usage_record_failed", provider=spend.provider, error=repr(exc))
