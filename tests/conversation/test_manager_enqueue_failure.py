"""If the queue is down, accept raises (the adapter answers non-2xx) and leaves nothing
behind: the dedupe claim is released, the quota refunded, no job row is committed, so
the platform's retry is accepted as new."""

from __future__ import annotations

import socket

import pytest
from conversation_stack import StackFactory

from core.errors import StorageError
from core.storage.repositories import jobs, messages


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


async def test_enqueue_failure_raises_and_releases_the_claim(
    make_stack: StackFactory,
) -> None:
    down = f"redis://127.0.0.1:{_closed_port()}/0"
    broken = await make_stack(queue_url=down)
    inbound = broken.inbound("how many rows", thread="t1")

    with pytest.raises(StorageError, match="enqueue failed"):
        await broken.manager.accept(inbound)

    usage = {u.name: u.used for u in await broken.quotas.usage("test:W", user="U1")}
    assert usage["analyses_per_day"] == 0  # refunded
    async with broken.database.session() as session:
        assert await jobs.recent(session, "test:W") == []
        assert await messages.history(session, "test:W", "C1", "t1") == []

    # The platform retries the same event; with the queue back, it is accepted once.
    healthy = await make_stack()  # same database, Redis prefix and dedupe keys
    assert (await healthy.manager.accept(inbound)).kind == "enqueued"
    assert (await healthy.manager.accept(inbound)).kind == "duplicate"
    assert await healthy.redis.zcard(healthy.settings.queue_name) == 1
