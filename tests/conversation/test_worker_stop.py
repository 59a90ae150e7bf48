"""`stop` cancels the running job through ARQ's abort: the user reads "Stopped." and the
answer is never posted, even when the work could have finished."""

from __future__ import annotations

import asyncio

from arq.jobs import Job, JobStatus
from conversation_stack import Stack, wait_until

from core.events import FileRef
from core.storage.repositories import audit


async def test_stop_cancels_a_running_job(stack: Stack, tips_csv: bytes) -> None:
    stack.fetcher.files["F-slow"] = tips_csv
    started, release = stack.fetcher.hold("F-slow")
    ref = FileRef(id="F-slow", name="tips.csv", size=len(tips_csv))
    running = await stack.adapter.deliver(stack.inbound("how many rows", files=[ref], thread="t"))
    assert running.kind == "enqueued" and running.job_id is not None
    await asyncio.wait_for(started.wait(), 10)  # the worker is inside the job now

    other_user = await stack.say("stop", thread="t", actor="U2")  # not theirs, not an admin
    assert other_user.reply is not None and "cannot manage members" in other_user.reply.text
    stopped = await stack.say("stop", thread="t")
    assert stopped.reply is not None and stopped.reply.text == "Stopped."

    job = Job(running.job_id, stack.redis, _queue_name=stack.settings.queue_name)

    async def aborted() -> bool:
        return await job.status() == JobStatus.complete

    await wait_until(aborted)  # ARQ cancelled the task and stored its result
    release.set()  # too late: the job is gone
    assert stack.sender.for_key(running.job_id) == []
    assert stack.sender.texts() == [other_user.reply.text, "Stopped."]
    assert await stack.job_status(running.job_id, "test:W") == "failed"
    assert await stack.ledger.state(running.job_id) == "stopped"
    again = await stack.say("stop", thread="t")
    assert again.reply is not None and again.reply.text == "Nothing is running in this thread."
    async with stack.database.session() as session:
        assert [e.target for e in await audit.recent(session, "test:W", action="job.stopped")] == [
            running.job_id
        ]


async def test_stop_before_the_job_starts_means_it_never_runs(
    stack: Stack, tips_csv: bytes
) -> None:
    await stack.stop_worker()  # nothing picks the job up yet
    accepted = await stack.upload("tips.csv", tips_csv, "how many rows", thread="t")
    stopped = await stack.say("stop", thread="t")
    assert stopped.reply is not None and stopped.reply.text == "Stopped."
    await stack.start_worker()
    job = Job(accepted.job_id or "", stack.redis, _queue_name=stack.settings.queue_name)

    async def gone() -> bool:
        return await job.status() in (JobStatus.complete, JobStatus.not_found)

    await wait_until(gone)
    assert stack.fetcher.calls == []  # never fetched, never answered
    assert stack.sender.for_key(accepted.job_id or "") == []
