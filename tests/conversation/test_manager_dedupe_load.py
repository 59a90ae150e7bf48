"""Dedupe under concurrent redelivery: 200 events, each delivered 1–4 times (the same
event again, or the same message under another event id, as Slack does), accepted
concurrently and drained by a real ARQ worker → exactly 200 replies.

Why 200 and not 1,000: the races that matter are two copies of one message in flight at
the same moment. With the copies shuffled over all deliveries and ``IN_FLIGHT`` requests
at once, the expected number of such overlaps is about (pairs of copies) × ``IN_FLIGHT``
÷ (deliveries), and both counts grow with the events: about 30 either way. The test counts
the overlaps it actually produced and requires some, so fewer events keep the proof at a
fifth of the time.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from conversation_stack import Stack, StackFactory

from core.events import Inbound
from core.ports import Acceptance
from core.storage.repositories import jobs

EVENTS = 200
IN_FLIGHT = 16
"""Requests in flight at once, as on a busy web process."""
MIN_OVERLAPS = 5
"""Deliveries that started while another copy of the same message was still in flight."""


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


async def test_events_redelivered_concurrently_get_one_reply_each(
    make_stack: StackFactory, tips_csv: bytes
) -> None:
    stack = await make_stack()  # SQLite: the one writer makes concurrency hardest
    await stack.start_worker()
    await stack.answer(await stack.upload("tips.csv", tips_csv, thread="load"))
    deliveries = _deliveries(stack, random.Random(20261122))
    gate = asyncio.Semaphore(IN_FLIGHT)
    in_flight: Counter[str] = Counter()  # message id → copies being accepted right now
    overlaps = 0

    async def deliver(inbound: Inbound) -> Acceptance:
        nonlocal overlaps
        async with gate:
            overlaps += in_flight[inbound.message_id] > 0
            in_flight[inbound.message_id] += 1
            try:
                return await stack.adapter.deliver(inbound)
            finally:
                in_flight[inbound.message_id] -= 1

    outcomes = Counter(a.kind for a in await asyncio.gather(*map(deliver, deliveries)))
    assert outcomes == {"enqueued": EVENTS, "duplicate": len(deliveries) - EVENTS}
    assert overlaps >= MIN_OVERLAPS, f"only {overlaps} copies raced; the test proves little"

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
