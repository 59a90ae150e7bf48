"""Questions the planner refuses go to the LLM analyst, end to end through `nexus dev`.

The dev runtime on real Redis runs the production worker wiring
(``workers.context.open_worker_context``): the router from settings, its spend in the
usage ledger and the quotas, a started local sandbox. The LLM is the fake OpenAI
server (``tests/llm/fakes.py``); numbers are checked against pandas computed here.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiohttp.test_utils import TestClient, TestServer
from llm.dev_stack import QUESTION, SMOKERS_BY_DAY, DevRuntimes, dev_settings
from llm.fakes import FakeLLMServer  # tests/ is on sys.path; tests/llm is package "llm"
from redis.asyncio import Redis

from adapters.testing import RecordingSender, make_inbound
from bot.runtime import Runtime
from bot.serving import runtime_app
from core.datasets.ingest import load_tables_from_bytes
from core.datasets.profile import profile_table
from core.engine import AnalysisEngine
from core.errors import QuestionNotUnderstoodError
from core.events import FileRef, ImageSegment, ReceiptSegment, Reply, TableSegment
from core.llm.pricing import PriceTable
from core.quotas import Quotas
from core.replies import failure_text
from core.settings import IngestLimits
from core.storage.repositories import usage

WORKSPACE = "test:T1"

DevFactory = Callable[..., Awaitable[tuple[Runtime, RecordingSender]]]


@pytest.fixture
async def openai() -> AsyncIterator[FakeLLMServer]:
    server = FakeLLMServer("openai")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def make_dev(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path, tips_csv: bytes
) -> AsyncIterator[DevFactory]:
    """`nexus dev` on real Redis and SQLite with its in-process ARQ worker."""
    runtimes = DevRuntimes(redis_client, redis_prefix)

    async def make(
        *,
        llm: FakeLLMServer | None = None,
        charts: bool = False,
        files: dict[str, bytes] | None = None,
    ) -> tuple[Runtime, RecordingSender]:
        keys: dict[str, Any] = {
            "openai_api_key": None if llm is None else llm.api_key,
            "openai_base_url": None if llm is None else llm.base_url,
        }
        settings = dev_settings(
            redis_url=redis_url,
            redis_prefix=redis_prefix,
            tmp_path=tmp_path,
            anthropic_api_key=None,
            groq_api_key=None,
            **keys,
        )
        return await runtimes.open(settings, {"F1": tips_csv, **(files or {})}, charts=charts)

    yield make
    await runtimes.close()


async def _ask(
    runtime: Runtime,
    sender: RecordingSender,
    text: str,
    *,
    attach: bytes | None = None,
    files: list[FileRef] | None = None,
    thread: str | None = None,
) -> Reply:
    if files is None:
        files = [] if attach is None else [FileRef(id="F1", name="tips.csv", size=len(attach))]
    accepted = await runtime.manager.accept(make_inbound(text, files=files, thread=thread))
    assert accepted.kind == "enqueued", accepted
    key = accepted.job_id or ""
    # The worker starts the sandbox before its first job: allow for it.
    await sender.wait_for(lambda: bool(sender.for_key(key)), within=90)
    (reply,) = sender.for_key(key)
    return reply


def _receipt(reply: Reply) -> ReceiptSegment:
    (receipt,) = [s for s in reply.segments if isinstance(s, ReceiptSegment)]
    return receipt


async def test_llm_fills_the_spec_the_planner_refused(
    make_dev: DevFactory, openai: FakeLLMServer, tips_csv: bytes
) -> None:
    tables = load_tables_from_bytes(tips_csv, "tips.csv", IngestLimits())
    with pytest.raises(QuestionNotUnderstoodError):
        AnalysisEngine(renderer=None).plan(tables, QUESTION, [profile_table(tables[0])])
    openai.script(openai.tool_call("answer_with_spec", SMOKERS_BY_DAY))
    runtime, sender = await make_dev(llm=openai)

    reply = await _ask(runtime, sender, QUESTION, attach=tips_csv)

    (table,) = [s for s in reply.segments if isinstance(s, TableSegment)]
    frame = pd.read_csv(io.BytesIO(tips_csv))
    expected = frame[frame["smoker"] == "Yes"].groupby("day")["tip"].mean()
    shown = {row[0]: row[1] for row in table.rows}
    assert shown == pytest.approx(expected.to_dict())
    receipt = _receipt(reply)
    price = PriceTable().cost("gpt-4.1-mini-2025-04-14", 40, 12)
    assert (receipt.method, receipt.planner) == ("spec", "llm")
    assert receipt.model == "gpt-4.1-mini-2025-04-14"
    assert (receipt.tokens_in, receipt.tokens_out) == (40, 12)
    assert receipt.cost_usd == pytest.approx(price) and price > 0
    assert openai.request_count == 1
    # The spend is in the durable ledger and in the workspace's quota counters.
    async with runtime.database.session() as session:
        totals = await usage.totals(
            session, WORKSPACE, since=datetime.now(UTC) - timedelta(hours=1)
        )
    assert (totals["tokens_in"], totals["tokens_out"]) == (40, 12)
    assert totals["cost_usd"] == pytest.approx(price)
    counters = {u.name: u.used for u in await _quotas(runtime).usage(WORKSPACE)}
    assert counters["tokens_per_day"] == 52 and counters["analyses_per_day"] == 1
    assert counters["cost_usd_per_month"] == pytest.approx(price)
    lines = runtime.status_lines()
    assert lines[0].startswith("sandbox: local, ") and lines[1] == "renderer: off (charts disabled)"


async def test_every_provider_down_refunds_the_question(
    make_dev: DevFactory, openai: FakeLLMServer, tips_csv: bytes
) -> None:
    openai.script(openai.server_error(500), openai.server_error(500))
    runtime, sender = await make_dev(llm=openai)

    reply = await _ask(runtime, sender, QUESTION, attach=tips_csv)

    assert reply.text.startswith("Every AI provider is unavailable right now (openai: 500)")
    assert openai.request_count >= 1
    counters = {u.name: u.used for u in await _quotas(runtime).usage(WORKSPACE)}
    assert counters["analyses_per_day"] == 0  # the question's analysis was given back
    assert counters["tokens_per_day"] == 0


@pytest.mark.browser
async def test_chart_followup_needs_no_llm(
    make_dev: DevFactory, openai: FakeLLMServer, tips_csv: bytes
) -> None:
    runtime, sender = await make_dev(llm=openai, charts=True)

    first = await _ask(runtime, sender, "average tip by day", attach=tips_csv)
    second = await _ask(runtime, sender, "make it a line chart")

    images = [
        [s for s in reply.segments if isinstance(s, ImageSegment)] for reply in (first, second)
    ]
    assert len(images[0]) == 1 and len(images[1]) == 1
    png = images[1][0].inline_bytes() or b""
    assert png.startswith(b"\x89PNG") and png != images[0][0].inline_bytes()
    receipt = _receipt(second)
    chart = (receipt.spec or {}).get("chart")
    assert isinstance(chart, dict) and chart["kind"] == "line"
    assert receipt.planner == "deterministic" and receipt.tokens_in == 0
    assert openai.request_count == 0


async def test_without_provider_keys_the_planner_refusal_stands(
    make_dev: DevFactory, tips_csv: bytes
) -> None:
    runtime, sender = await make_dev()
    tables = load_tables_from_bytes(tips_csv, "tips.csv", IngestLimits())
    with pytest.raises(QuestionNotUnderstoodError) as refused:
        await AnalysisEngine(renderer=None).answer(tables, QUESTION)

    reply = await _ask(runtime, sender, QUESTION, attach=tips_csv)

    assert reply.text == failure_text(refused.value, reference="", refunded=True)
    async with TestClient(TestServer(runtime_app(runtime, []))) as client:
        ready = await client.get("/readyz")
        assert ready.status == 200
        lines = (await ready.text()).splitlines()
    assert lines[:4] == [
        "database: ok",
        "redis: ok",
        "sandbox: off (no AI provider configured, so no generated code)",
        "renderer: off (charts disabled)",
    ]
    assert any(line.startswith("milvus: embedded milvus-lite file") for line in lines)


GUIDE = b"""# Service guide

## Parties

A large party is a table of five or more guests. Large parties are seated in the back room.

## Closing

The kitchen closes at ten.
"""
OTHER_GUIDE = b"# Banquet notes\n\nFor banquets, a large party means two guests or more.\n"
LARGE_PARTIES_BY_DAY: dict[str, Any] = {
    "dataset": 0,
    "spec": {
        "operation": "aggregate",
        "filters": [{"column": "size", "op": ">=", "value": 5}],
        "group_by": ["day"],
        "aggregations": [{"func": "mean", "column": "tip"}],
    },
}


async def test_an_analysis_reads_definitions_from_the_threads_documents(
    make_dev: DevFactory, openai: FakeLLMServer, tips_csv: bytes
) -> None:
    question = "average tip of large parties on each day"
    tables = load_tables_from_bytes(tips_csv, "tips.csv", IngestLimits())
    with pytest.raises(QuestionNotUnderstoodError):  # "large" is defined only in the guide
        AnalysisEngine(renderer=None).plan(tables, question, [profile_table(tables[0])])
    openai.script(openai.tool_call("answer_with_spec", LARGE_PARTIES_BY_DAY))
    guides = {"F2": GUIDE, "F3": OTHER_GUIDE}
    runtime, sender = await make_dev(llm=openai, files=guides)
    other = [FileRef(id="F3", name="banquets.md", size=len(OTHER_GUIDE))]
    await _ask(runtime, sender, "", files=other, thread="T-banquets")  # another thread
    guide = [FileRef(id="F2", name="service-guide.md", size=len(GUIDE))]
    indexed = await _ask(runtime, sender, "", files=guide)
    assert indexed.text.startswith("Indexed service-guide.md")
    await _ask(runtime, sender, "average tip by day", attach=tips_csv)  # the planner's
    assert openai.request_count == 0

    reply = await _ask(runtime, sender, question)

    (table,) = [s for s in reply.segments if isinstance(s, TableSegment)]
    frame = pd.read_csv(io.BytesIO(tips_csv))
    expected = frame[frame["size"] >= 5].groupby("day")["tip"].mean()
    assert {row[0]: row[1] for row in table.rows} == pytest.approx(expected.to_dict())
    (request,) = openai.requests
    prompt = json.dumps(request.json["messages"])
    assert "A large party is a table of five or more guests." in prompt
    assert "banquets" not in prompt.lower()  # another thread's document is not this one's
    receipt = _receipt(reply)
    assert receipt.planner == "llm"
    assert any(
        note.startswith("Context from the thread's documents: service-guide.md")
        for note in receipt.notes
    )


def _quotas(runtime: Runtime) -> Quotas:
    return Quotas(runtime.redis, prefix=runtime.settings.redis_prefix)
