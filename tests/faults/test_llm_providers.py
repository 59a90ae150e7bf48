"""Each LLM provider failing in turn, on the whole path of `nexus dev` on real Redis:
manager → ARQ worker → pipeline → answerer → analyst → router (built from settings)
→ the real OpenAI/Anthropic SDKs → fake provider servers (tests/llm/fakes.py).

The chain is openai → anthropic → groq. A provider is down either by answering
HTTP 5xx or by refusing connections (its port stops listening; see refusing_proxy).
The question is one the deterministic planner refuses, so only the LLM can answer:

- with the first providers down, the next one answers: one reply, the receipt names
  its model, the numbers match pandas, the failover is counted in the metrics;
- with all three down, one clear reply says the AI providers are unavailable and to
  try again, and the question's quota is refunded; when a provider comes back, the
  question asked again is answered.
"""

from __future__ import annotations

import io
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conversation_stack import wait_until
from llm.dev_stack import QUESTION, SMOKERS_BY_DAY, DevRuntimes, dev_settings
from llm.fakes import MODELS, Dialect, FakeLLMServer
from redis.asyncio import Redis
from refusing_proxy import RefusingProxy

from adapters.testing import RecordingSender, make_inbound
from bot.runtime import Runtime
from core.events import FileRef, ReceiptSegment, Reply, TableSegment
from core.quotas import Quotas
from core.storage.repositories import jobs
from core.storage.repositories.jobs import FINISHED

CHAIN: tuple[Dialect, ...] = ("openai", "anthropic", "groq")
WORKSPACE = "test:T1"
REFUSED = "refused"
"""An outage by connection refused; any other outage is the HTTP status it answers."""


@dataclass
class Provider:
    """One fake provider, reached through a proxy that can refuse connections."""

    name: str
    fake: FakeLLMServer
    line: RefusingProxy

    @property
    def base_url(self) -> str:
        return self.fake.base_url.replace(f":{self.fake.port}", f":{self.line.port}")

    async def go_down(self, how: str) -> None:
        """Down for the next question: refuse connections, or answer HTTP ``how``."""
        if how == REFUSED:
            await self.line.refuse()
        else:
            self.fake.script(self.fake.server_error(int(how)))

    async def come_back(self) -> None:
        await self.line.come_back()
        self.fake.script(self.fake.tool_call("answer_with_spec", SMOKERS_BY_DAY))

    def label(self, how: str) -> str:
        """How the router's outage message names this failure."""
        return "unreachable" if how == REFUSED else how


@pytest.fixture
async def providers() -> AsyncIterator[dict[str, Provider]]:
    started: dict[str, Provider] = {}
    for name in CHAIN:
        fake = FakeLLMServer(name)
        await fake.start()
        line = await RefusingProxy("127.0.0.1", fake.port).start()
        started[name] = Provider(name, fake, line)
    yield started
    for provider in started.values():
        await provider.line.close()
        await provider.fake.stop()


DevFactory = Callable[[], Awaitable[tuple[Runtime, RecordingSender]]]


@pytest.fixture
async def make_dev(
    providers: dict[str, Provider],
    redis_url: str,
    redis_client: Redis,
    redis_prefix: str,
    tmp_path: Path,
    tips_csv: bytes,
) -> AsyncIterator[DevFactory]:
    """`nexus dev` with all three providers configured, in the order of ``CHAIN``."""
    runtimes = DevRuntimes(redis_client, redis_prefix)

    async def make() -> tuple[Runtime, RecordingSender]:
        keys: dict[str, Any] = {}
        for name, provider in providers.items():
            keys[f"{name}_api_key"] = provider.fake.api_key
            keys[f"{name}_base_url"] = provider.base_url
        settings = dev_settings(
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            tmp_path=tmp_path,
            llm_provider_chain=",".join(CHAIN),
            **keys,
        )
        return await runtimes.open(settings, {"F1": tips_csv})

    yield make
    await runtimes.close()


async def ask(runtime: Runtime, sender: RecordingSender, *, attach: bytes | None) -> Reply:
    """Ask ``QUESTION``; the one reply of its job, once the job is final."""
    files = [] if attach is None else [FileRef(id="F1", name="tips.csv", size=len(attach))]
    accepted = await runtime.manager.accept(make_inbound(QUESTION, files=files))
    assert accepted.kind == "enqueued", accepted
    key = accepted.job_id or ""

    async def final() -> bool:
        async with runtime.database.session() as session:
            row = await jobs.get(session, WORKSPACE, key)
        return row is not None and row.status in FINISHED

    # The worker starts its sandbox before the first job: allow for it.
    await wait_until(final, within=90)
    (reply,) = sender.for_key(key)  # exactly one: nothing lost, nothing posted twice
    return reply


def assert_smokers_by_day(reply: Reply, tips_csv: bytes) -> None:
    (table,) = [s for s in reply.segments if isinstance(s, TableSegment)]
    tips = pd.read_csv(io.BytesIO(tips_csv))
    expected = tips[tips["smoker"] == "Yes"].groupby("day")["tip"].mean()
    assert {row[0]: row[1] for row in table.rows} == pytest.approx(expected.to_dict())


def answered_by(reply: Reply) -> str | None:
    """The model the receipt names."""
    (receipt,) = [s for s in reply.segments if isinstance(s, ReceiptSegment)]
    assert (receipt.method, receipt.planner) == ("spec", "llm")
    return receipt.model


def llm_calls(runtime: Runtime) -> dict[str, Counter[str]]:
    """``nexus_llm_calls_total`` as provider → outcome (ok, server_error, ...) → count."""
    calls: dict[str, Counter[str]] = {name: Counter() for name in CHAIN}
    for metric in runtime.metrics.registry.collect():
        for sample in metric.samples:
            if sample.name == "nexus_llm_calls_total":
                calls[sample.labels["provider"]][sample.labels["outcome"]] += int(sample.value)
    return calls


def failovers(runtime: Runtime) -> dict[tuple[str, str], float]:
    return {
        (s.labels["from_provider"], s.labels["to_provider"]): s.value
        for metric in runtime.metrics.registry.collect()
        for s in metric.samples
        if s.name == "nexus_llm_failovers_total"
    }


async def quota_used(runtime: Runtime) -> dict[str, float]:
    quotas = Quotas(runtime.redis, prefix=runtime.settings.redis_prefix)
    return {u.name: u.used for u in await quotas.usage(WORKSPACE)}


@pytest.mark.parametrize(
    "outages",
    [
        pytest.param({"openai": "500"}, id="openai-500"),
        pytest.param({"openai": REFUSED}, id="openai-refused"),
        pytest.param({"openai": "503", "anthropic": "500"}, id="openai-503,anthropic-500"),
        pytest.param({"openai": REFUSED, "anthropic": REFUSED}, id="openai,anthropic-refused"),
    ],
)
async def test_the_next_provider_in_the_chain_answers(
    outages: dict[str, str],
    providers: dict[str, Provider],
    make_dev: DevFactory,
    tips_csv: bytes,
) -> None:
    answering = CHAIN[len(outages)]
    assert list(outages) == list(CHAIN[: len(outages)])  # the first ones fail, in order
    for name, how in outages.items():
        await providers[name].go_down(how)
    fake = providers[answering].fake
    fake.script(fake.tool_call("answer_with_spec", SMOKERS_BY_DAY))
    runtime, sender = await make_dev()

    reply = await ask(runtime, sender, attach=tips_csv)

    assert_smokers_by_day(reply, tips_csv)
    assert answered_by(reply) == MODELS[answering]
    calls = llm_calls(runtime)
    for name, how in outages.items():
        assert calls[name] == {"unreachable" if how == REFUSED else "server_error": 1}
        # A refused connection never reaches the fake; a 5xx is one request.
        assert providers[name].fake.request_count == (0 if how == REFUSED else 1)
    assert calls[answering] == {"ok": 1} and fake.request_count == 1
    later = CHAIN[len(outages) + 1 :]
    assert all(providers[name].fake.request_count == 0 for name in later)
    hops = list(itertools.pairwise(CHAIN[: len(outages) + 1]))
    assert failovers(runtime) == {hop: 1.0 for hop in hops}
    used = await quota_used(runtime)
    assert used["analyses_per_day"] == 1 and used["tokens_per_day"] == 52  # 40 in, 12 out
    assert len(sender.replies) == 1


@pytest.mark.parametrize(
    ("how", "returning"),
    [
        pytest.param("500", "groq", id="all-500-then-groq"),
        pytest.param(REFUSED, "anthropic", id="all-refused-then-anthropic"),
    ],
)
async def test_every_provider_down_says_so_then_a_returning_one_answers(
    how: str,
    returning: str,
    providers: dict[str, Provider],
    make_dev: DevFactory,
    tips_csv: bytes,
) -> None:
    for provider in providers.values():
        await provider.go_down(how)
    runtime, sender = await make_dev()

    outage = await ask(runtime, sender, attach=tips_csv)

    causes = ", ".join(f"{name}: {providers[name].label(how)}" for name in CHAIN)
    assert outage.text.startswith(f"Every AI provider is unavailable right now ({causes}).")
    assert "try again in a few minutes" in outage.text
    assert "not charged" in outage.text  # no provider billed anything
    assert outage.text.count("quota") == 1  # the refund is not announced twice
    used = await quota_used(runtime)
    assert used["analyses_per_day"] == 0 and used["tokens_per_day"] == 0  # refunded

    # The returning provider answers again; the others stay down as they were.
    for name in CHAIN:
        if name != returning:
            await providers[name].go_down(how)
    await providers[returning].come_back()
    again = await ask(runtime, sender, attach=None)  # the file is already in the thread

    assert_smokers_by_day(again, tips_csv)
    assert answered_by(again) == MODELS[returning]
    assert llm_calls(runtime)[returning]["ok"] == 1
    used = await quota_used(runtime)
    assert used["analyses_per_day"] == 1 and used["tokens_per_day"] == 52
    assert [r.idempotency_key for r in sender.replies] == [
        outage.idempotency_key,
        again.idempotency_key,
    ]
    assert outage.idempotency_key != again.idempotency_key
