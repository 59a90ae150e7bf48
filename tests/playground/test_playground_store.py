"""The thread store on real Redis and on fakeredis (what `nexus dev` without Redis uses):
the same Lua script, the same answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import fakeredis
import pytest
from redis.asyncio import Redis

from adapters.playground.store import PlaygroundStore


@pytest.fixture(params=["redis", "fakeredis"])
async def store(
    request: pytest.FixtureRequest, redis_client: Redis, redis_prefix: str
) -> AsyncIterator[PlaygroundStore]:
    if request.param == "redis":
        yield PlaygroundStore(redis_client, prefix=redis_prefix, workspace="playground:local")
        return
    fake: Redis = fakeredis.FakeAsyncRedis()
    yield PlaygroundStore(fake, prefix=redis_prefix, workspace="playground:local")
    await fake.aclose()  # type: ignore[attr-defined]


def _entry(text: str, at: str) -> dict[str, str]:
    return {"type": "message", "text": text, "at": at}


async def test_entries_are_appended_once_and_read_after_a_sequence(store: PlaygroundStore) -> None:
    assert await store.add_message("t00001", "e1", _entry("first", "2026-01-01T10:00"))
    assert not await store.add_message("t00001", "e1", _entry("first", "2026-01-01T10:00"))
    await store.set_progress("t00001", "job-1", "Analysing…")
    assert (await store.read("t00001")).progress == {"job-1": "Analysing…"}

    reply = {"type": "reply", "key": "job-1", "segments": [], "at": "2026-01-01T10:01"}
    assert await store.add_reply("t00001", "job-1", reply)
    assert not await store.add_reply("t00001", "job-1", reply)  # posted once

    view = await store.read("t00001")
    assert [(e["seq"], e["type"]) for e in view.entries] == [(0, "message"), (1, "reply")]
    assert view.progress == {}  # the reply took its job's status line away
    later = await store.read("t00001", after=0)
    assert [e["seq"] for e in later.entries] == [1]
    assert (await store.read("t00001", after=-7)).entries == view.entries


async def test_threads_are_listed_newest_first_with_their_first_words(
    store: PlaygroundStore,
) -> None:
    await store.add_message("t00001", "e1", _entry("average tip by day", "2026-01-01T10:00"))
    await store.add_message("t00002", "e2", _entry("how many rows", "2026-01-01T11:00"))
    await store.add_message("t00001", "e3", _entry("make it a line chart", "2026-01-01T12:00"))
    threads = await store.threads()
    assert [(t["id"], t["title"]) for t in threads] == [
        ("t00002", "how many rows"),
        ("t00001", "average tip by day"),
    ]
