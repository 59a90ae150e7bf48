"""Exactly one claim per event under concurrent redelivery, against real Redis."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from core.dedupe import Deduplicator
from core.errors import StorageError
from core.events import Inbound


def _event(i: int, *, event_id: str | None = None) -> Inbound:
    return Inbound(
        platform="slack",
        workspace_id=f"T{i % 7}",
        channel_id=f"C{i % 13}",
        message_id=f"{1700000000 + i}.000100",
        event_id=event_id or f"Ev{i}",
        actor_id="U1",
        text="hi",
        mentioned=True,
    )


async def test_thousand_events_redelivered_concurrently_claim_exactly_once(
    redis_client: Redis, redis_prefix: str
) -> None:
    dedupe = Deduplicator(redis_client, timedelta(minutes=5), prefix=redis_prefix)
    rng = random.Random(20250102)
    deliveries: list[Inbound] = []
    for i in range(1000):
        # Slack-style duplicates: the same event again, or its `message` twin with a
        # new event id but the same channel and ts.
        for copy in range(rng.randint(1, 4)):
            twin = copy > 0 and rng.random() < 0.3
            deliveries.append(_event(i, event_id=f"Ev{i}-twin{copy}" if twin else None))
    rng.shuffle(deliveries)

    results = await asyncio.gather(*(dedupe.claim(d.dedupe_keys()) for d in deliveries))

    winners = [d for d, ok in zip(deliveries, results, strict=True) if ok]
    assert len(winners) == 1000
    assert len({(w.workspace, w.channel_id, w.message_id) for w in winners}) == 1000
    assert len(deliveries) > 1000


async def test_claim_marks_every_alias(redis_client: Redis, redis_prefix: str) -> None:
    dedupe = Deduplicator(redis_client, prefix=redis_prefix)
    assert await dedupe.claim(["slack:T1:event:E1", "slack:T1:message:C1:1.0"])
    # A twin sharing only the message key is refused, and so is one sharing only the event.
    assert not await dedupe.claim(["slack:T1:event:E2", "slack:T1:message:C1:1.0"])
    assert not await dedupe.claim(["slack:T1:event:E1", "slack:T1:message:C1:9.9"])
    # A refused claim marks nothing new.
    assert not await dedupe.seen("slack:T1:event:E2")
    assert await dedupe.claim(["slack:T1:event:E2"])


async def test_keys_expire_after_ttl(redis_client: Redis, redis_prefix: str) -> None:
    dedupe = Deduplicator(redis_client, timedelta(milliseconds=200), prefix=redis_prefix)
    assert await dedupe.claim(["k"])
    ttl_ms = await redis_client.pttl(f"{redis_prefix}:dedupe:k")
    assert 0 < ttl_ms <= 200
    await asyncio.sleep(0.3)
    assert await dedupe.claim(["k"])


async def test_release_lets_a_redelivery_through(redis_client: Redis, redis_prefix: str) -> None:
    dedupe = Deduplicator(redis_client, prefix=redis_prefix)
    keys = _event(1).dedupe_keys()
    assert await dedupe.claim(keys)
    await dedupe.release(keys)  # the enqueue failed: the platform will retry
    assert await dedupe.claim(keys)


async def test_prefixes_isolate_deduplicators(redis_client: Redis, redis_prefix: str) -> None:
    one = Deduplicator(redis_client, prefix=f"{redis_prefix}:a")
    two = Deduplicator(redis_client, prefix=f"{redis_prefix}:b")
    assert await one.claim(["x"])
    assert await two.claim(["x"])


async def test_bad_input_is_refused(redis_client: Redis, redis_prefix: str) -> None:
    dedupe = Deduplicator(redis_client, prefix=redis_prefix)
    with pytest.raises(ValueError):
        await dedupe.claim([])
    with pytest.raises(ValueError):
        await dedupe.claim(["ok", ""])
    with pytest.raises(ValueError):
        Deduplicator(redis_client, timedelta(0))


async def test_unreachable_redis_raises_storage_error() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        with pytest.raises(StorageError):
            await Deduplicator(dead).claim(["x"])
    finally:
        await dead.aclose()  # type: ignore[attr-defined]
