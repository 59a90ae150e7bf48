"""The results table and command line shared by the ack benches (Slack, Teams)."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection

import aiohttp
from aiohttp import web
from rich.console import Console
from rich.table import Table

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

Result = tuple[list[float], int, float]
"""(latencies in ms, errors, achieved requests/s) of one load run."""

RequestFactory = Callable[[int, str], tuple[bytes, dict[str, str]]]
"""``(n, run id) -> (body, headers)``, signed as it leaves; picklable (a module-level
function or a ``functools.partial`` of one), because it runs in the generator process."""

Row = tuple[str, list[float], int, float]
"""(target, latencies in ms, errors, achieved requests/s); the first row is the baseline."""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def print_ack_table(
    console: Console, title: str, rows: list[Row], *, deadline_ms: float, platform: str
) -> None:
    table = Table(title=title)
    for column in ("target", "sent", "errors", "achieved/s", "p50", "p90", "p99", "max"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for label, lat, errors, achieved in rows:
        stats = [f"{pct(lat, q):.1f}" for q in (0.5, 0.9, 0.99)]
        table.add_row(
            label, str(len(lat)), str(errors), f"{achieved:.0f}", *stats, f"{max(lat):.1f}"
        )
    console.print(table)
    base_p50 = pct(rows[0][1], 0.5)
    deadline = f"{deadline_ms / 1000:g} s"
    for label, lat, _, _ in rows[1:]:
        console.print(
            f"{label}: p50 +{pct(lat, 0.5) - base_p50:.1f} ms over baseline; "
            f"p99 {pct(lat, 0.99):.1f} ms = {pct(lat, 0.99) / deadline_ms:.2%} "
            f"of {platform}'s {deadline}"
        )


def ack_arguments(description: str, unit: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rate", type=float, default=50.0, help=f"{unit} per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", help="default: a temporary PostgreSQL database")
    parser.add_argument("--postgres-admin-url", default=PG_ADMIN, help="creates that database")
    return parser.parse_args()


async def _open_loop(
    url: str, request: RequestFactory, ok_status: int, rate: float, seconds: float
) -> Result:
    """Each request leaves at its scheduled time; latency counts from that time, so a
    server falling behind shows it."""
    run = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(n: int, due: float) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body, headers = request(n, run)
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    ok = resp.status == ok_status
            except aiohttp.ClientError:
                ok = False
            latencies.append((time.perf_counter() - due) * 1000)
            errors += not ok

        start = time.perf_counter() + 0.2
        total = int(rate * seconds)
        await asyncio.gather(*(one(n, start + n / rate) for n in range(total)))
        elapsed = time.perf_counter() - start
    return latencies, errors, total / elapsed


def _generate(args: tuple[str, RequestFactory, int, float, float], conn: Connection) -> None:
    conn.send(asyncio.run(_open_loop(*args)))
    conn.close()


async def load(
    url: str, request: RequestFactory, *, ok_status: int, rate: float, seconds: float
) -> Result:
    """Open-loop load from a separate process (the server under test keeps its cores)."""
    parent, child = mp.get_context("spawn").Pipe(duplex=False)
    args = (url, request, ok_status, rate, seconds)
    process = mp.get_context("spawn").Process(target=_generate, args=(args, child))
    process.start()
    result: Result = await asyncio.to_thread(parent.recv)
    await asyncio.to_thread(process.join)
    return result


class AckRuns:
    """One bench's rows: each target warmed up, then loaded at the run's rate."""

    def __init__(self, args: argparse.Namespace, request: RequestFactory, ok_status: int) -> None:
        self._args = args
        self._request = request
        self._ok_status = ok_status
        self.rows: list[tuple[str, list[float], int, float]] = []

    async def measure(self, label: str, url: str) -> None:
        # Warm-up first: connections, JWKS, the adapter's own first calls.
        warm = min(self._args.rate, 50.0)
        await load(url, self._request, ok_status=self._ok_status, rate=warm, seconds=1.0)
        latencies, errors, achieved = await load(
            url,
            self._request,
            ok_status=self._ok_status,
            rate=self._args.rate,
            seconds=self._args.seconds,
        )
        self.rows.append((label, latencies, errors, achieved))

    async def baseline(self, path: str) -> None:
        """The same load on a bare aiohttp handler at ``path``: this machine's floor."""

        async def answer(_request: web.Request) -> web.Response:
            return web.Response(status=self._ok_status)

        app = web.Application()
        app.router.add_post(path, answer)
        runner, url = await serve(app)
        try:
            await self.measure(f"baseline: bare aiohttp {self._ok_status}", url + path)
        finally:
            await runner.cleanup()


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"
