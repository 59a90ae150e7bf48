"""Slack ack latency under a sustained load of signed events, against a bare baseline.

Run: ``.venv/bin/python bench/slack_ack.py [--rate 50] [--seconds 10] [--database-url URL]``

A separate process sends signed ``app_mention`` events (each unique) at a fixed rate,
open loop: every request leaves at its scheduled time whether or not earlier ones
were answered, and latency is measured from that scheduled time, so a server that
falls behind shows it (no coordinated omission). Three targets, in one run, each on
its own aiohttp server on 127.0.0.1:

- ``baseline``: a bare aiohttp handler answering 200 (the floor of this machine);
- ``slack, null intake``: our routes → bolt (signature check, authorize, listener,
  normalize) → an intake that accepts at once: the adapter's own cost;
- ``slack, real core``: the same, with the real conversation manager behind it, as
  ``nexus serve`` builds it (Redis dedupe and quotas, database records, ARQ enqueue;
  no worker drains the queue), on a temporary PostgreSQL database by default.

Bolt's ``auth.test`` and the after-ack reaction go to a fake Web API in a third
process. Slack's deadline is 3 s; the last lines say how far below it p99 stays.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing as mp
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ack_report import AckRuns, ack_arguments, print_ack_table, serve
from aiohttp import web
from redis.asyncio import Redis
from rich.console import Console
from sqlalchemy.engine import make_url

from adapters.slack.factory import build_slack_adapter
from bot.runtime import open_runtime
from core.events import Inbound
from core.logging import configure_logging
from core.ports import Acceptance, Intake
from core.settings import Settings
from core.storage.repositories import workspaces

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
BOT = "UBENCHBOT"
DEADLINE_MS = 3000.0


def signed_event(n: int, run: str) -> tuple[bytes, dict[str, str]]:
    """A unique, signed ``app_mention`` (its own thread, one of 50 users)."""
    ts = f"{1_700_000_000 + n}.{n % 1_000_000:06d}"
    text = f"<@{BOT}> average tip by day"
    event = dict(type="app_mention", user=f"U{n % 50}", text=text, channel="CBENCH", ts=ts)
    envelope = dict(team_id="TBENCH", type="event_callback", event_id=f"Ev{run}{n}")
    body = json.dumps({**envelope, "event": {**event, "event_ts": ts, "thread_ts": ts}})
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    signature = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    return body.encode(), {"Content-Type": "application/json", **signature}


async def _fake_web_api(conn: Connection) -> None:
    """``auth.test`` for bolt, ``ok`` for everything else (reactions, messages)."""

    async def api(request: web.Request) -> web.Response:
        if request.match_info["method"] == "auth.test":
            return web.json_response({"ok": True, "team_id": "TBENCH", "user_id": BOT})
        return web.json_response({"ok": True, "ts": "1.0", "channel": "CBENCH"})

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    runner, url = await serve(app)
    conn.send(f"{url}/api/")
    await asyncio.to_thread(conn.recv)  # until the parent says stop
    await runner.cleanup()


def fake_web_api(conn: Connection) -> None:
    asyncio.run(_fake_web_api(conn))


class FakeSlackProcess:
    """Slack's Web API stand-in, in its own process like the real one: the server
    under test pays for its outbound calls, not for answering them too."""

    def __init__(self) -> None:
        self._conn, child = mp.get_context("spawn").Pipe()
        self._process = mp.get_context("spawn").Process(target=fake_web_api, args=(child,))

    async def start(self) -> str:
        self._process.start()
        url: str = await asyncio.to_thread(self._conn.recv)
        return url

    async def stop(self) -> None:
        self._conn.send("stop")
        await asyncio.to_thread(self._process.join)


class NullIntake:
    async def accept(self, inbound: Inbound) -> Acceptance:
        return Acceptance("enqueued", job_id=inbound.event_id)


async def real_core(
    redis_url: str, database_url: str, prefix: str
) -> tuple[Intake, Callable[[], Awaitable[None]]]:
    """The web process's conversation manager, built by ``bot.runtime`` exactly as
    ``nexus serve`` builds it (no worker: the queue only fills)."""
    settings = Settings(
        _env_file=None,
        redis_url=redis_url,
        database_url=database_url,
        data_dir=Path(tempfile.mkdtemp(prefix="nexus-bench-")),
        redis_prefix=prefix,
        queue_name=f"{prefix}:queue",
    )
    runtime = await open_runtime(settings, plugins=[], mode="serve")
    async with runtime.database.session() as session:
        # Unlimited quotas, so every event takes the full accept path (not a refusal).
        unlimited = {"analyses_per_day": 0, "requests_per_user_per_minute": 0}
        await workspaces.get_or_create(
            session, "slack:TBENCH", platform="slack", settings={"quotas": unlimited}
        )

    async def close() -> None:
        redis = Redis.from_url(redis_url)
        for pattern in (f"{prefix}*", f"arq:*{prefix}*"):
            async for key in redis.scan_iter(match=pattern, count=1000):
                await redis.delete(key)
        await redis.aclose()  # type: ignore[attr-defined]
        await runtime.close()

    return runtime.manager, close


@asynccontextmanager
async def database(args: argparse.Namespace) -> AsyncIterator[str]:
    """``--database-url`` as given, else a fresh PostgreSQL database, dropped after."""
    if args.database_url:
        yield args.database_url
        return
    import asyncpg

    name = f"nexus_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(args.postgres_admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(args.postgres_admin_url).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def slack_server(api_url: str, intake: Intake) -> tuple[web.AppRunner, str, Any]:
    settings = Settings(
        _env_file=None,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
    )
    adapter = build_slack_adapter(settings, intake, database=None)
    app = web.Application()
    adapter.mount(app)
    runner, url = await serve(app)
    return runner, f"{url}/slack/events", adapter


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING", "console")  # per-event info logs would be the bottleneck
    console = Console(width=120)
    runs = AckRuns(args, signed_event, ok_status=200)
    measure = runs.measure
    await runs.baseline("/slack/events")

    fake_slack = FakeSlackProcess()
    api_url = await fake_slack.start()
    runner, url, adapter = await slack_server(api_url, NullIntake())
    await measure("slack, null intake", url)
    await adapter.close()
    await runner.cleanup()

    prefix = f"nexus-bench:{uuid.uuid4().hex[:8]}"
    async with database(args) as database_url:
        intake, close_core = await real_core(args.redis_url, database_url, prefix)
        try:
            runner, url, adapter = await slack_server(api_url, intake)
            await measure(f"slack, real core ({database_url.split(':')[0]})", url)
            await adapter.close()
            await runner.cleanup()
        finally:
            await close_core()
            await fake_slack.stop()

    print_ack_table(
        console,
        f"Slack ack latency, {args.rate:g} events/s for {args.seconds:g} s (ms)",
        runs.rows,
        deadline_ms=DEADLINE_MS,
        platform="Slack",
    )


if __name__ == "__main__":
    asyncio.run(main(ack_arguments(__doc__.splitlines()[0], "events")))
