"""PostgreSQL unavailable for a while (a proxy this test owns is cut; the shared
server keeps running). The ack path needs only Redis once a member is known, so a
question is still acked; the worker's job fails on the database, is retried with
backoff, and once PostgreSQL is reachable again it is answered exactly once."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pandas as pd
from conversation_stack import StackFactory
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy


async def test_a_question_asked_during_an_outage_is_answered_once_after_it(
    make_stack: StackFactory, pg_database_url: str, tmp_path: Path, tips_csv: bytes
) -> None:
    real = make_url(pg_database_url)
    proxy = await TcpProxy(real.host or "127.0.0.1", real.port or 5432).start()
    through_proxy = real.set(host="127.0.0.1", port=proxy.port)
    stack = await make_stack(
        database_url=through_proxy.render_as_string(hide_password=False),
        job_max_tries=8,  # the harness backs off 0.05 s, doubling: ~6 s of retries
    )
    await stack.start_worker()
    try:
        rows = len(pd.read_csv(io.BytesIO(tips_csv)))
        first = await stack.upload("tips.csv", tips_csv, "how many rows are there", thread="t1")
        assert (await stack.answer(first, within=60)).startswith(f"Number of rows: {rows}")

        proxy.cut()
        during = await stack.say("how many rows are there", thread="t1")  # acked: Redis only
        assert during.kind == "enqueued"
        await asyncio.wait_for(proxy.refused_event.wait(), 30)  # the worker hit the outage
        assert stack.sender.for_key(during.job_id or "") == []
        proxy.restore()

        assert (await stack.answer(during, within=60)).startswith(f"Number of rows: {rows}")
        assert await stack.finished(during.job_id) == "succeeded"
        assert len(stack.sender.for_key(during.job_id or "")) == 1
        assert proxy.refused >= 1
    finally:
        await stack.close()
        await proxy.close()
