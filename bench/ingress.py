"""Accept-and-enqueue latency of the conversation manager at a sustained event rate.

Run: .venv/bin/python bench/ingress.py [--rate 200] [--seconds 10] [--db sqlite,postgresql]

Open-loop load: event i is due at ``start + i / rate`` whatever happened before, and
its latency runs from that due time to the end of ``ConversationManager.accept``
(dedupe claim, workspace and member lookup, RBAC, two quota reservations, job row +
thread history + usage ledger, ARQ enqueue, commit), so queueing inside the process
counts (no coordinated omission). Nothing drains the queue: this measures ingress only.

Baseline in the same run and at the same rate: a bare ARQ ``enqueue_job`` of the same
payload, the floor any ingress pays. Target: p99 <= 25 ms at 200 events/s.
Needs Redis (NEXUS_BENCH_REDIS_URL, default redis://127.0.0.1:6379/0) and, for the
PostgreSQL row, an admin URL (NEXUS_BENCH_POSTGRES_URL) it may CREATE DATABASE from.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.testing import make_inbound
from core.blobs import BlobStore
from core.conversation import ConversationManager
from core.dedupe import Deduplicator
from core.delivery import ReplyLedger
from core.gc_tuning import freeze_heap
from core.logging import configure_logging
from core.member_cache import MemberCache
from core.queue import ArqQueue, JobRequest, arq_redis
from core.quotas import QuotaPolicy, Quotas
from core.running_jobs import RunningJobs
from core.storage.db import Database

REDIS_URL = os.environ.get("NEXUS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get(
    "NEXUS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
TARGET_P99_MS = 25.0
WORKSPACES = 20


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def open_loop(
    rate: float, seconds: float, call: Callable[[int], Awaitable[object]]
) -> list[float]:
    """Latencies (ms) of ``call(i)`` fired at a fixed rate, measured from each due time."""
    latencies: list[float] = []
    count = int(rate * seconds)
    start = time.perf_counter() + 0.05

    async def one(i: int, due: float) -> None:
        await call(i)
        latencies.append((time.perf_counter() - due) * 1000)

    tasks = []
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    return latencies


class Bench:
    def __init__(self, database_url: str, prefix: str) -> None:
        self.prefix = prefix
        self.queue_name = f"{prefix}:queue"
        self.database = Database(database_url)
        self.redis = Redis.from_url(REDIS_URL)
        self.arq = arq_redis(REDIS_URL, queue_name=self.queue_name)
        unlimited = QuotaPolicy(analyses_per_day=0, requests_per_user_per_minute=0)
        self.manager = ConversationManager(
            database=self.database,
            dedupe=Deduplicator(self.redis, prefix=prefix),
            quotas=Quotas(self.redis, policy=unlimited, prefix=prefix),
            queue=ArqQueue(self.arq, queue_name=self.queue_name),
            ledger=ReplyLedger(self.redis, prefix=prefix),
            running=RunningJobs(self.redis, prefix=prefix),
            members=MemberCache(self.redis, prefix=prefix),
            blobs=BlobStore(f"memory://{prefix}"),
            prefix=prefix,
        )

    def event(self, i: int, run: str) -> object:
        return make_inbound(
            "average tip by day",
            workspace=f"T{i % WORKSPACES}",
            channel="C1",
            thread=f"t{i % 50}",
            actor=f"U{i % 200}",
            message_id=f"{run}-{i}",
            event_id=f"{run}-e{i}",
        )

    async def accept(self, i: int, run: str) -> None:
        acceptance = await self.manager.accept(self.event(i, run))  # type: ignore[arg-type]
        assert acceptance.kind == "enqueued", acceptance

    async def bare_enqueue(self, i: int) -> None:
        request = JobRequest(kind="answer_question", inbound=self.event(i, "bare"))  # type: ignore[arg-type]
        await self.arq.enqueue_job(
            "answer_question", request.model_dump(mode="json"),
            _job_id=f"{self.prefix}:bare:{i}", _queue_name=self.queue_name,
        )  # fmt: skip

    async def close(self) -> None:
        keys = [k async for k in self.redis.scan_iter(match=f"{self.prefix}*", count=1000)]
        keys += [k async for k in self.redis.scan_iter(match=f"arq:*{self.prefix}*", count=1000)]
        for start in range(0, len(keys), 500):
            await self.redis.delete(*keys[start : start + 500])
        await self.redis.aclose()
        await self.arq.aclose()
        await self.database.dispose()


Rows = list[tuple[str, list[float]]]


async def run_db(label: str, url: str, rate: float, seconds: float) -> Rows:
    bench = Bench(url, f"nexus-bench:{uuid.uuid4().hex[:8]}")
    try:
        await bench.database.migrate()
        await open_loop(rate, 1.0, lambda i: bench.accept(i, "warm"))  # workspaces, members
        freeze_heap()  # as `nexus serve` does once it is up
        baseline = await open_loop(rate, seconds, bench.bare_enqueue)
        accepted = await open_loop(rate, seconds, lambda i: bench.accept(i, "run"))
    finally:
        await bench.close()
    return [
        (f"ARQ enqueue_job alone ({label} run)", baseline),
        (f"accept → enqueue, {label}", accepted),
    ]


async def postgres_database() -> tuple[str, Callable[[], Awaitable[None]]]:
    name = f"nexus_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False), drop


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    configure_logging("WARNING", "json")  # as in production: no per-event log lines
    rows: Rows = []
    for db in args.db.split(","):
        if db == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
                rows += await run_db("SQLite", url, args.rate, args.seconds)
        elif db == "postgresql":
            url, drop = await postgres_database()
            try:
                rows += await run_db("PostgreSQL", url, args.rate, args.seconds)
            finally:
                await drop()
    print(f"\nIngress at {args.rate:g} events/s for {args.seconds:g} s, open loop, {REDIS_URL}")
    header = f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  p99 <= {TARGET_P99_MS:g} ms"
    print(f"{'path':44} {'n':>6} {header}")
    for name, samples in rows:
        p50, p99, worst = percentile(samples, 0.5), percentile(samples, 0.99), max(samples)
        verdict = "yes" if p99 <= TARGET_P99_MS else "NO"
        print(f"{name:44} {len(samples):>6} {p50:>8.2f} {p99:>8.2f} {worst:>8.2f}  {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
