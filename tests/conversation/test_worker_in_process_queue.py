"""The in-process queue of `nexus dev` keeps ARQ's semantics where they matter."""

from __future__ import annotations

import asyncio
from typing import Any

from arq.worker import Retry

from adapters.testing import make_inbound
from core.queue import InProcessQueue, JobRequest, deserialize, serialize


def _request() -> JobRequest:
    return JobRequest(kind="answer_question", inbound=make_inbound("hi"), question="hi")


async def test_retry_then_success_and_one_run_per_id() -> None:
    tries: list[int] = []

    async def flaky(ctx: dict[str, Any], request: dict[str, Any]) -> None:
        tries.append(ctx["job_try"])
        assert JobRequest.model_validate(request).question == "hi"  # JSON round trip
        if ctx["job_try"] < 3:
            raise Retry(defer=0.01)

    queue = InProcessQueue({"answer_question": flaky}, job_timeout=5, max_tries=3)
    assert await queue.enqueue(_request(), "j1")
    assert not await queue.enqueue(_request(), "j1")  # already queued
    await queue.join()
    assert tries == [1, 2, 3]


async def test_abort_cancels_the_running_job() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(ctx: dict[str, Any], request: dict[str, Any]) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    queue = InProcessQueue({"answer_question": slow}, job_timeout=30, max_tries=3)
    await queue.enqueue(_request(), "j2")
    await asyncio.wait_for(started.wait(), 5)
    await queue.abort("j2")
    await queue.join()
    assert cancelled.is_set()


def test_the_serializer_is_json() -> None:
    payload = {"kind": "answer_question", "error": ValueError("boom")}
    data = serialize(payload)
    assert data.startswith(b"{")
    assert deserialize(data) == {
        "kind": "answer_question",
        "error": {"error": "ValueError", "message": "boom"},
    }
