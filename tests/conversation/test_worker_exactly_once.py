"""Exactly-once replies by job id: the Redis marker's states, and the database row as
the durable fallback when Redis forgets."""

from __future__ import annotations

from conversation_stack import Stack
from redis.asyncio import Redis

from core.delivery import ReplyLedger
from core.queue import JobRequest


async def test_reply_marker_states(redis_client: Redis, redis_prefix: str) -> None:
    ledger = ReplyLedger(redis_client, prefix=redis_prefix)
    assert await ledger.begin("j1", "run-a") == "new"
    assert await ledger.begin("j1", "run-a") == "new"  # the same run asking again
    assert await ledger.begin("j1", "run-b") == "takeover"  # run-a died mid-post
    assert await ledger.stop("j1") == "sending:run-b"  # too late to stop
    await ledger.complete("j1", "succeeded")
    assert await ledger.begin("j1", "run-c") == "settled"
    assert await ledger.settled("j1")

    assert await ledger.stop("j2") is None  # stop before anyone posts
    assert await ledger.begin("j2", "run-a") == "settled"
    assert await ledger.state("j2") == "stopped"


async def test_a_rerun_never_posts_twice_even_if_redis_forgets(
    stack: Stack, tips_csv: bytes
) -> None:
    await stack.answer(await stack.upload("tips.csv", tips_csv))
    inbound = stack.inbound("how many rows are there")
    accepted = await stack.adapter.deliver(inbound)
    assert (await stack.answer(accepted)).startswith("Number of rows: 244")
    job_id = accepted.job_id or ""
    assert await stack.finished(job_id) == "succeeded"
    request = JobRequest(
        kind="answer_question", inbound=inbound, question="how many rows are there"
    )

    # ARQ runs the job again (a crash after posting): the marker says it is done.
    assert await stack.context.pipeline.run(request, job_id=job_id, attempt=2) == {
        "status": "skipped"
    }
    # Redis lost the marker (restart without persistence): the job row still knows.
    await stack.redis.delete(f"{stack.settings.redis_prefix}:reply:{job_id}")
    assert await stack.context.pipeline.run(request, job_id=job_id, attempt=3) == {
        "status": "skipped"
    }
    assert len(stack.sender.for_key(job_id)) == 1
