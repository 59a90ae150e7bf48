"""Dedupe under concurrent redelivery: 1,000 events, each delivered 1–4 times (the same
event again, or the same message under another event id, as Slack does), accepted
concurrently and drained by a real ARQ worker → exactly 1,000 replies."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from conversation_stack import Stack, StackFactory

from core.events import Inbound
from core.ports import Acceptance
from core.storage.repositories import jobs

EVENTS = 1000


def _deliveries(stack: Stack, rng: random.Random) -> list[Inbound]:
    deliveries: list[Inbound] = []
    for number in range(EVENTS):
        event = stack.inbound(
            "how many rows are there", thread="load", message_id=f"m{number}", event_id=f"e{number}"
        )
        for copy in range(rng.randint(1, 4)):
            if copy and rng.random() < 0.5:  # Slack: app_mention + message, one ts
                event = event.model_copy(update={"event_id": f"e{number}-{copy}"})
            deliveries.append(event)
    rng.shuffle(deliveries)
    return deliveries


async def test_thousand_events_redelivered_concurrently_get_one_reply_each(
    make_stack: StackFactory, tips_csv: bytes
) -> None:
    stack = await make_stack()  # SQLite: the one writer makes concurrency hardest
    await stack.start_worker()
    await stack.answer(await stack.upload("tips.csv", tips_csv, thread="load"))
    deliveries = _deliveries(stack, random.Random(20261122))
    gate = asyncio.Semaphore(16)  # requests in flight at once, as on a busy web process

    async def deliver(inbound: Inbound) -> Acceptance:
        async with gate:
            return await stack.adapter.deliver(inbound)

    outcomes = Counter(a.kind for a in await asyncio.gather(*map(deliver, deliveries)))
    assert outcomes == {"enqueued": EVENTS, "duplicate": len(deliveries) - EVENTS}

    await stack.sender.wait_replies(EVENTS + 1, within=90)
    # Let every job reach its final status before counting, so a late double post would show.
    async with stack.database.session() as session:
        recent = await jobs.recent(session, "test:W", limit=2 * EVENTS)
    for job in recent:
        await stack.finished(job.id)
    keys = Counter(reply.idempotency_key for reply in stack.sender.replies)
    assert len(stack.sender.replies) == EVENTS + 1
    assert max(keys.values()) == 1
    answers = [r.text for r in stack.sender.replies[1:]]
    assert all(text.startswith("Number of rows: 244") for text in answers), answers[:3]
