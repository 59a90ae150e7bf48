"""The load generator: its own process, sending signed platform requests open loop.

The driver (``bench/load.py``) sends a schedule over a pipe — ``(offset seconds,
platform name, Question)`` — and gets back one :class:`Sent` per request. Each
request leaves at its scheduled time whether or not earlier ones were answered,
and its ack latency runs from that time, so a server falling behind shows it (no
coordinated omission). Signing happens at send time, as the platforms do.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import aiohttp
from platforms import PLATFORMS, Question, signed_request

Schedule = list[tuple[float, str, Question]]


@dataclass(frozen=True)
class Sent:
    index: int
    due_epoch: float
    """Wall-clock time the request was due (comparable with the fakes' stamps)."""
    ack_ms: float
    status: int
    """HTTP status; 0 when the connection failed."""
    platform: str = ""

    @property
    def acked(self) -> bool:
        """Accepted by the endpoint (Slack and Discord: 200; Teams: 201)."""
        return 200 <= self.status < 300


async def _send(urls: list[str], ids: dict[str, str], schedule: Schedule) -> list[Sent]:
    """Each request to the next of ``urls`` in turn, as a round-robin balancer would."""
    results: list[Sent] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        # perf_counter for the schedule, time.time() only to report the due instant.
        start, start_epoch = time.perf_counter() + 0.1, time.time() + 0.1

        async def one(index: int, offset: float, name: str, question: Question) -> None:
            await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
            platform = PLATFORMS[name]
            body, headers = signed_request(platform, question, ids)
            try:
                url = urls[index % len(urls)] + platform.path
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    status = r.status
            except aiohttp.ClientError:
                status = 0
            ack = (time.perf_counter() - start - offset) * 1000
            results.append(Sent(index, start_epoch + offset, ack, status, name))

        await asyncio.gather(*(one(i, *item) for i, item in enumerate(schedule)))
    return sorted(results, key=lambda s: s.index)


def _serve(conn: Connection) -> None:
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(asyncio.run(_send(*job)))


class LoadGenerator:
    """A long-lived generator process; :meth:`run` sends one schedule through it."""

    def __init__(self) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()

    async def run(self, urls: list[str], ids: dict[str, str], schedule: Schedule) -> list[Sent]:
        self._conn.send((urls, ids, schedule))
        sent: list[Sent] = await asyncio.to_thread(self._conn.recv)
        return sent

    def close(self) -> None:
        self._conn.send(None)
        self._process.join(10)
