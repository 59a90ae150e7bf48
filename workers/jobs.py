"""ARQ job functions: thin, they hand the request to the core pipeline.

``ctx`` is ARQ's job context: ``job_id`` and ``job_try`` from ARQ, ``worker`` (a
:class:`workers.context.WorkerContext`) from ``on_startup``. The in-process queue of
``nexus dev`` calls these same functions with the same context keys.
"""

from __future__ import annotations

from typing import Any

from core.queue import JobRequest
from workers.context import WorkerContext


async def _run(ctx: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    worker: WorkerContext = ctx["worker"]
    return await worker.pipeline.run(
        JobRequest.model_validate(request), job_id=ctx["job_id"], attempt=ctx["job_try"]
    )


async def answer_question(ctx: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """A question (maybe with files): fetch, ingest, analyse, post the answer."""
    return await _run(ctx, request)


async def ingest_upload(ctx: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Files shared without a question: fetch, ingest, store in the thread, summarise."""
    return await _run(ctx, request)


JOB_FUNCTIONS = {"answer_question": answer_question, "ingest_upload": ingest_upload}
