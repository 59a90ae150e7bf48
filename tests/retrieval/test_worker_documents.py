"""Documents through the whole conversation path: manager → ARQ → worker → reply.

The stack of tests/conversation (real Redis, SQLite, an ARQ worker), with the worker's
Answerer given a DocumentLibrary on a milvus-lite file, as workers/context.py does.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import plotly.express as px
import pytest
from conversation.conversation_stack import Stack, open_stack
from documents.docs_support import pdf_bytes
from redis.asyncio import Redis
from retrieval_support import settings_for

from core.answering import Answerer
from core.blobs import BlobStore
from core.events import (
    CitationsSegment,
    ReceiptSegment,
    Segment,
    TableSegment,
    TextSegment,
)
from core.job_records import JobRecords
from core.pipeline import Pipeline
from core.ports import Acceptance
from core.retrieval.library import DocumentLibrary
from core.running_jobs import RunningJobs
from core.settings import IngestLimits
from workers.context import WorkerContext

PAGES = [
    "Shipping takes three to five working days.",
    "Batteries are covered by the warranty for 12 months.",
    "Returns are accepted within 30 days.",
]
THREAD = {"channel": "C1", "thread": "T-docs"}


@pytest.fixture
async def stack(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    built = await open_stack(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        redis_client=redis_client,
        redis_url=redis_url,
        prefix=redis_prefix,
        data_dir=tmp_path / "data",
    )
    library = await DocumentLibrary.open(settings_for(tmp_path), built.database)
    config = built.settings
    answerer = Answerer(
        database=built.database,
        blobs=BlobStore.for_data_dir(config.data_dir),
        quotas=built.quotas,
        renderer=None,
        limits=IngestLimits(),
        documents=library,
    )
    running = RunningJobs(redis_client, prefix=redis_prefix, ttl=config.running_job_ttl)
    pipeline = Pipeline(
        records=JobRecords(database=built.database, quotas=built.quotas, running=running),
        ledger=built.ledger,
        registry=built.registry,
        answerer=answerer,
        max_tries=config.job_max_tries,
        retry_backoff=config.job_retry_backoff_seconds,
        deadline=config.job_timeout_seconds - 1,
    )
    built.context = WorkerContext(
        pipeline=pipeline, database=built.database, renderer=None, documents=library
    )
    await built.start_worker()
    yield built
    await built.close()
    await library.close()


async def _reply(stack: Stack, accepted: Acceptance) -> list[Segment]:
    await stack.answer(accepted)
    (reply,) = stack.sender.for_key(accepted.job_id or "")
    return list(reply.segments)


async def test_upload_ask_with_citations_then_forget(stack: Stack) -> None:
    pdf = pdf_bytes(PAGES)  # once: the PDF carries its creation time
    uploaded = await stack.upload("terms.pdf", pdf, **THREAD)
    assert await stack.answer(uploaded) == (
        "Indexed terms.pdf: 3 pages, 3 passages.\n"
        "Ask me about them and I'll answer with references to the passages."
    )
    again = await stack.upload("terms.pdf", pdf, **THREAD)
    assert (await stack.answer(again)).startswith("Already had terms.pdf: 3 pages, 3 passages.")

    segments = await _reply(stack, await stack.say("how long are batteries covered?", **THREAD))
    text, citations, receipt = segments
    assert isinstance(text, TextSegment) and "[1]" in text.text
    assert isinstance(citations, CitationsSegment)
    assert (citations.citations[0].title, citations.citations[0].location) == ("terms.pdf", "p. 2")
    assert isinstance(receipt, ReceiptSegment) and receipt.method == "retrieval"
    assert receipt.sources == ["terms.pdf"]

    forgot = await stack.say("forget", **THREAD)
    assert forgot.kind == "replied" and forgot.reply is not None
    assert forgot.reply.text == "Forgot 1 file(s) in this thread: terms.pdf."
    after = await _reply(stack, await stack.say("how long are batteries covered?", **THREAD))
    assert not any(isinstance(s, CitationsSegment) for s in after)


async def test_data_and_document_questions_in_one_thread(stack: Stack) -> None:
    tips = px.data.tips()
    await stack.answer(await stack.upload("tips.csv", tips.to_csv(index=False).encode(), **THREAD))
    await stack.answer(await stack.upload("terms.pdf", pdf_bytes(PAGES), **THREAD))

    data = await _reply(stack, await stack.say("average tip by day", **THREAD))
    table = next(s for s in data if isinstance(s, TableSegment))
    expected = pd.read_csv(io.StringIO(tips.to_csv(index=False))).groupby("day")["tip"].mean()
    shown = {row[0]: row[1] for row in table.rows}
    assert shown.keys() == set(expected.index)
    assert all(abs(float(shown[day]) - expected[day]) < 0.01 for day in expected.index)

    docs = await _reply(stack, await stack.say("what does the policy say about returns?", **THREAD))
    cited = next(s for s in docs if isinstance(s, CitationsSegment))
    assert cited.citations[0].location == "p. 3"
    assert cited.citations[0].snippet == "Returns are accepted within 30 days."
