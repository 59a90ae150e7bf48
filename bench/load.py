"""The whole system under load: signed Slack, Discord and Teams traffic from a separate
process against ``nexus serve`` + 2 ``nexus worker`` processes on real Redis and PostgreSQL.

Run: ``.venv/bin/python bench/load.py [--rate 200] [--seconds 10] [--quick]``

Phases, in one run (each platform's fake runs in this process and time-stamps
what the workers post):

1. setup: a 100k-row CSV (plotly's tips, resampled) is uploaded into a few threads
   per platform, and ingested;
2. throughput: the same batch of template questions (group + aggregate + chart)
   with 1 worker (the second is SIGSTOPped), then with 2;
3. ack: ``--rate`` events/s for ``--warmup`` then ``--seconds`` (measured), a third
   each Slack, Discord and Teams, each a question in a thread (Teams: a personal
   chat) without data (answered "no data": the ack path is the full accept path, and
   the workers drain it); baseline, before the system starts: a bare aiohttp 200 at
   the same rate from the same generator;
4. answers: template questions at a low rate, event → chart posted;
all the while the RSS of every process is sampled (a leak shows as growth).

Targets: ack p99 <= 25 ms at 200 events/s; event -> chart p50 <= 1 s; 2 workers >= 1.8x one.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import plotly.express as px
from load_report import Report
from loadgen import LoadGenerator, Schedule, Sent
from platforms import PLATFORMS, Question, discord_token, slack_ts
from procfs import CpuTimes, cpu_seconds, machine_cpu, rss_mib
from system import NexusSystem
from teams_platform import teams_message_id
from temp_database import temporary_database

from core.logging import configure_logging

TEMPLATES = (
    "average tip by day",
    "total bill by day",
    "average total_bill by time",
    "number of rows by smoker",
    "max tip by size",
    "average tip by sex",
)
NAMES = tuple(PLATFORMS)


def hundred_k_rows(rows: int) -> bytes:
    return px.data.tips().sample(n=rows, replace=True, random_state=7).to_csv(index=False).encode()


class LoadBench:
    def __init__(self, system: NexusSystem, generator: LoadGenerator, run: str) -> None:
        self.system, self.generator, self.run = system, generator, run
        self.rss: list[tuple[float, dict[str, float]]] = []
        self.files: dict[str, dict[str, object]] = {}
        self._n = 0

    def question(self, platform: str, thread: str, text: str, file: bool = False) -> Question:
        self._n += 1
        return Question(self._n, self.run, thread, text, self.files[platform] if file else None)

    def thread(self, platform: str, k: int, kind: str) -> str:
        if platform == "slack":
            return f"{1_690_000_000 + k}.{ {'data': 1, 'empty': 2}[kind]:06d}"
        if platform == "teams":
            return f"bench-{kind}-{k}"  # the personal chat a:1bench-…
        return str(800_000_000_000_000_000 + k * 10 + {"data": 1, "empty": 2}[kind])

    def answered_at(self, name: str, q: Question, after: float, chart: bool) -> float | None:
        """When the answer was out: Slack's check mark on the question (after text and
        chart), or its first chart in the thread when ``chart`` (one question per
        thread at a time); Discord's edit of ``@original`` under the question's token;
        Teams' first activity answering the question's activity (or its chart)."""
        if name == "slack":
            if chart:
                return self.system.slack.chart_at(q.thread, after)
            return self.system.slack.done_at(slack_ts(q))
        if name == "teams":
            return self.system.connector.answer_at(teams_message_id(q), chart=chart)
        return self.system.discord.answer_at(discord_token(q), chart=chart)

    async def send_and_wait(
        self, schedule: Schedule, chart: bool, within: float
    ) -> tuple[list[Sent], list[float | None]]:
        sent = await self.generator.run(self.system.urls, self.system.ids, schedule)
        return sent, await self.acked_latencies(schedule, sent, chart, within)

    async def acked_latencies(
        self, schedule: Schedule, sent: list[Sent], chart: bool, within: float
    ) -> list[float | None]:
        """:meth:`latencies` of the acked requests only: a refused ack (non-2xx) is
        counted in the report, and the platform would retry it."""
        acked = [(item, s) for item, s in zip(schedule, sent, strict=True) if s.acked]
        return await self.latencies([a for a, _ in acked], [s for _, s in acked], chart, within)

    async def latencies(
        self, schedule: Schedule, sent: list[Sent], chart: bool, within: float = 10.0
    ) -> list[float | None]:
        """Seconds from each question's due time to its answer (None: none came)."""

        def answers() -> list[float | None]:
            return [
                self.answered_at(name, q, s.due_epoch, chart)
                for (_, name, q), s in zip(schedule, sent, strict=True)
            ]

        deadline = time.monotonic() + within
        # Polling: the answers land in the fakes' call logs, which offer no event.
        while None in answers() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return [
            None if a is None else a - s.due_epoch for a, s in zip(answers(), sent, strict=True)
        ]

    async def sample_rss(self) -> None:
        while True:
            self.rss.append((time.time(), {k: rss_mib(p) for k, p in self.system.pids().items()}))
            await asyncio.sleep(0.5)

    async def setup(self, threads: int, rows: int) -> None:
        data = hundred_k_rows(rows)
        assert self.system.team is not None
        self.files["slack"] = self.system.slack.add_file(self.system.team, "tips100k.csv", data)
        self.files["discord"] = {"url": self.system.discord.host_file("tips100k.csv", data),
                                 "size": len(data)}  # fmt: skip
        url = self.system.connector.file_url("tips100k.csv", data)
        self.files["teams"] = {"name": "tips100k.csv", "url": url}
        schedule: Schedule = []
        for k in range(threads):
            for name in NAMES:
                q = self.question(name, self.thread(name, k, "data"), "how many rows", file=True)
                schedule.append((0.2 * len(schedule), name, q))
        _, waited = await self.send_and_wait(schedule, chart=False, within=300)
        assert None not in waited, f"uploads not ingested: {waited}\n{self.system.logs()}"

    def template_batch(self, threads: int, count: int, rate: float) -> Schedule:
        schedule: Schedule = []
        for i in range(count):
            name = NAMES[i % len(NAMES)]
            thread = self.thread(name, (i // len(NAMES)) % threads, "data")
            q = self.question(name, thread, TEMPLATES[i % len(TEMPLATES)])
            schedule.append((i / rate, name, q))
        return schedule

    async def throughput(self, threads: int, count: int) -> tuple[float, float, float]:
        """Answers per second for a batch sent at once (told apart per question); how
        busy the machine's cores were meanwhile (0..1: every core busy); and the share
        of one core this driver used (its fakes stand in for Slack, Discord and Teams)."""
        schedule = self.template_batch(threads, count, rate=200)
        started, (busy, _, total) = time.time(), machine_cpu()
        driver = cpu_seconds(os.getpid())
        _, waited = await self.send_and_wait(schedule, chart=False, within=600)
        assert None not in waited, "a template question was not answered"
        busy_after, _, total_after = machine_cpu()
        elapsed = time.time() - started
        driver_share = (cpu_seconds(os.getpid()) - driver) / elapsed
        return count / elapsed, (busy_after - busy) / (total_after - total), driver_share

    async def ack(
        self, rate: float, seconds: float, *, warmup: float = 0.0, web_alone: bool = False
    ) -> tuple[list[Sent], list[Sent], float, float, float]:
        """Acks at ``rate``: the first ``warmup`` seconds, then the measured ``seconds``;
        the drain rate; ``nexus serve``'s CPU ms per event over the measured seconds;
        the share of the cores' time the hypervisor took meanwhile (steal: when this VM
        is slowed by its neighbours, the tail shows it and this says so).

        The warm-up is the same traffic, reported on its own: from a quiet system, the
        first second costs the web tier about half as much CPU again (it opens Redis
        and database connections for the new concurrency), which is start-up, not the
        sustained rate the target is about.

        ``web_alone``: the workers are stopped while the events arrive (and drain them
        after), as when the web tier has CPU of its own rather than sharing two cores.
        """
        schedule: Schedule = []
        for i in range(int(rate * (warmup + seconds))):
            name = NAMES[i % len(NAMES)]
            q = self.question(name, self.thread(name, 1000 + i, "empty"), "average tip by day")
            schedule.append((i / rate, name, q))
        warm = int(rate * warmup)
        serves = [s.pid for s in self.system.serves]

        def serve_cpu() -> float:
            return sum(map(cpu_seconds, serves))

        async def serve_cpu_after(delay: float) -> tuple[float, CpuTimes]:
            await asyncio.sleep(delay)
            return serve_cpu(), machine_cpu()

        started = time.time()
        paused = list(self.system.workers) if web_alone else []
        for worker in paused:
            os.kill(worker.pid, signal.SIGSTOP)
        # The generator starts its schedule 0.1 s after it is handed it.
        cpu_at = asyncio.create_task(serve_cpu_after(0.1 + warmup))
        try:
            sent = await self.generator.run(self.system.urls, self.system.ids, schedule)
        finally:
            for worker in paused:
                os.kill(worker.pid, signal.SIGCONT)
        serve_after, machine_after = serve_cpu(), machine_cpu()
        serve_before, machine_before = await cpu_at
        cpu_ms = (serve_after - serve_before) * 1000 / max(1, len(sent) - warm)
        ticks = machine_after.total - machine_before.total
        steal = (machine_after.steal - machine_before.steal) / ticks if ticks else 0.0
        waited = await self.acked_latencies(schedule, sent, False, 600)
        assert None not in waited, "an accepted event was never answered"
        return sent[:warm], sent[warm:], len(sent) / (time.time() - started), cpu_ms, steal


async def baseline_ack(generator: LoadGenerator, rate: float, seconds: float) -> list[Sent]:
    """The same generator against a bare aiohttp handler: this machine's floor."""
    from aiohttp import web

    async def ok(_request: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    for platform in PLATFORMS.values():
        app.router.add_post(platform.path, ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    ids = {"slack_bot": "UBASE", "discord_app": "1", "teams_service_url": "http://base/"}
    schedule: Schedule = [
        (i / rate, NAMES[i % len(NAMES)], Question(i, "base", "1.0", "x"))
        for i in range(int(rate * seconds))
    ]
    try:
        return await generator.run([f"http://127.0.0.1:{port}"], ids, schedule)
    finally:
        await runner.cleanup()


def dump_acks(path: Path, sent: list[Sent]) -> None:
    """One JSON line per request of the ack phase, for a look at where the tail falls."""
    with path.open("w") as out:
        for s in sent:
            out.write(json.dumps(dataclasses.asdict(s)) + "\n")


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING", "json")
    report = Report(args)
    generator = LoadGenerator()
    run = uuid.uuid4().hex[:8]
    async with temporary_database(args.postgres_admin_url) as database_url:
        system = NexusSystem(
            redis_url=args.redis_url, database_url=database_url, prefix=f"nexus-load:{run}",
            workdir=Path(tempfile.mkdtemp(prefix="nexus-load-")), worker_nice=args.worker_nice,
        )  # fmt: skip
        bench = LoadBench(system, generator, run)
        sampler: asyncio.Task[None] | None = None
        try:
            # The floor first, on a quiet machine: the system's start-up would load it.
            report.baseline = await baseline_ack(generator, args.rate, args.seconds)
            await system.start(workers=2, web=args.web)
            sampler = asyncio.create_task(bench.sample_rss())
            await bench.setup(args.threads, args.rows)
            second = system.workers[1]
            os.kill(second.pid, signal.SIGSTOP)  # idle: it holds no job while stopped
            batch = (args.threads, args.batch)
            report.one_worker, report.one_worker_cpu, _ = await bench.throughput(*batch)
            os.kill(second.pid, signal.SIGCONT)
            report.two_workers, report.two_workers_cpu, report.driver_cpu = await bench.throughput(
                *batch
            )
            report.rss_mark = len(bench.rss)
            (
                report.warmup, report.ack, report.drain_rate, report.serve_cpu_ms, report.steal
            ) = await bench.ack(
                args.rate, args.seconds, warmup=args.warmup, web_alone=args.web_alone
            )  # fmt: skip
            if args.dump_acks:
                dump_acks(args.dump_acks, report.warmup + report.ack)
            schedule = bench.template_batch(args.threads, args.answers, rate=args.answer_rate)
            sent, report.chart_latency = await bench.send_and_wait(schedule, True, within=300)
            report.done_latency = await bench.latencies(schedule, sent, chart=False)
        finally:
            if sampler is not None:
                sampler.cancel()
            report.rss = bench.rss
            report.print()  # what was measured, even if a phase failed
            await system.close()
            generator.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="events per second (ack phase)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the ack phase")
    parser.add_argument(
        "--warmup", type=float, default=2.0,
        help="seconds of the same traffic before the measured ack phase (reported apart)",
    )  # fmt: skip
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the uploaded file")
    parser.add_argument("--threads", type=int, default=4, help="threads with data, per platform")
    parser.add_argument("--batch", type=int, default=24, help="questions per throughput run")
    parser.add_argument("--answers", type=int, default=40, help="questions timed end to end")
    parser.add_argument("--answer-rate", type=float, default=1.0, help="their rate, per second")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--web", type=int, default=1, help="nexus serve replicas")
    parser.add_argument(
        "--web-alone", action="store_true",
        help="stop the workers while acks are measured (the web tier's own CPU)",
    )  # fmt: skip
    parser.add_argument(
        "--worker-nice", type=int, default=0,
        help="run the workers at this nice level (the web tier keeps CPU priority)",
    )  # fmt: skip
    parser.add_argument(
        "--dump-acks", type=Path, help="write each ack of the ack phase to this file (JSON lines)"
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 40 s)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.rate, arguments.seconds, arguments.threads = 50.0, 2.0, 1
        arguments.warmup = 1.0
        arguments.batch, arguments.answers, arguments.answer_rate = 3, 3, 1.0
    asyncio.run(main(arguments))
