"""Teams ack latency under a sustained load of signed activities, against a bare baseline.

Run: ``.venv/bin/python bench/teams_ack.py [--rate 50] [--seconds 10] [--database-url URL]``

A separate process posts Bot Framework message activities (each unique: its own
personal chat) with a channel-signed JWT at a fixed rate, open loop: every request
leaves at its scheduled time and latency counts from then, so falling behind shows
(no coordinated omission). Three targets, in one run, on 127.0.0.1:

- ``baseline``: a bare aiohttp handler answering 201 (the floor of this machine);
- ``teams, null intake``: ``POST /api/messages`` → botbuilder JWT validation (keys
  from a local OpenID/JWKS, cached after the warm-up) → the turn (store the
  conversation reference in the database, accept, typing indicator to the connector)
  with an intake that accepts at once: the adapter's own cost;
- ``teams, real core``: the same with the real conversation manager (Redis dedupe and
  quotas, ARQ enqueue; no worker drains the queue), as ``nexus serve`` builds it, on
  a temporary PostgreSQL database by default.

The fake Bot Connector (typing indicators) runs in a third process and the OpenID
server in a thread, as in the tests (``tests/teams/fake_bot_framework.py``). Teams
resends after ~15 s; the last lines say how far below that p99 stays.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing as mp
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path

from aiohttp import web
from redis.asyncio import Redis
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "teams"))
from ack_report import AckRuns, ack_arguments, print_ack_table, serve
from fake_bot_framework import (
    APP_ID,
    APP_PASSWORD,
    FakeChannelAuth,
    FakeConnector,
    StaticTokenCredentials,
)
from slack_ack import database

from adapters.teams import TeamsPlugin
from bot.runtime import open_runtime
from core.events import Inbound
from core.logging import configure_logging
from core.ports import Acceptance, Intake
from core.settings import Settings
from core.storage.db import Database
from core.storage.repositories import workspaces

TENANT = "bench-tenant"
DEADLINE_MS = 15_000.0
Closer = Callable[[], Awaitable[None]]


def activity(n: int, run: str, service_url: str) -> bytes:
    """A unique personal-chat message (one of 50 users)."""
    return json.dumps(
        {
            "type": "message",
            "id": f"{run}-{n}",
            "serviceUrl": service_url,
            "channelId": "msteams",
            "from": {"id": f"29:user-{n % 50}", "aadObjectId": f"aad-{n % 50}"},
            "recipient": {"id": f"28:{APP_ID}", "name": "Nexus"},
            "conversation": {
                "id": f"a:1{run}{n}",
                "conversationType": "personal",
                "tenantId": TENANT,
            },
            "text": "average tip by day",
        }
    ).encode()


def signed_activity(token: str, service_url: str, n: int, run: str) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return activity(n, run, service_url), headers


async def _connector(conn: Connection) -> None:
    fake = await FakeConnector(token=None).start()
    conn.send(fake.service_url)
    await asyncio.to_thread(conn.recv)  # until the parent says stop
    await fake.stop()


def connector_process(conn: Connection) -> None:
    asyncio.run(_connector(conn))


class NullIntake:
    async def accept(self, inbound: Inbound) -> Acceptance:
        return Acceptance("enqueued", job_id=inbound.event_id)


def settings_for(
    channel: FakeChannelAuth, database_url: str, redis_url: str, prefix: str
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=redis_url,
        database_url=database_url,
        data_dir=Path(tempfile.mkdtemp(prefix="nexus-bench-")),
        redis_prefix=prefix,
        queue_name=f"{prefix}:queue",
        teams_app_id=APP_ID,
        teams_app_password=APP_PASSWORD,
        teams_openid_metadata_url=channel.metadata_url,
        teams_token_issuer=channel.issuer,
    )


async def teams_server(settings: Settings, intake: Intake) -> tuple[str, Closer]:
    plugin = TeamsPlugin(settings, credentials=StaticTokenCredentials())
    app = web.Application()
    plugin.install_routes(app, intake)
    runner, url = await serve(app)

    async def close() -> None:
        await runner.cleanup()
        await plugin.close()

    return f"{url}/api/messages", close


async def real_core(settings: Settings) -> tuple[Intake, Closer]:
    runtime = await open_runtime(settings, plugins=[], mode="serve")
    async with runtime.database.session() as session:
        # Unlimited quotas, so every message takes the full accept path (not a refusal).
        unlimited = {"analyses_per_day": 0, "requests_per_user_per_minute": 0}
        await workspaces.get_or_create(
            session, f"teams:{TENANT}", platform="teams", settings={"quotas": unlimited}
        )

    async def close() -> None:
        redis = Redis.from_url(settings.redis_url or "")
        prefix = settings.redis_prefix
        for pattern in (f"{prefix}*", f"arq:*{prefix}*"):
            async for key in redis.scan_iter(match=pattern, count=1000):
                await redis.delete(key)
        await redis.aclose()  # type: ignore[attr-defined]
        await runtime.close()

    return runtime.manager, close


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING", "console")  # per-event info logs would be the bottleneck
    console = Console(width=120)
    channel = FakeChannelAuth().start()
    conn, child = mp.get_context("spawn").Pipe()
    fake = mp.get_context("spawn").Process(target=connector_process, args=(child,))
    fake.start()
    service_url: str = await asyncio.to_thread(conn.recv)
    token = channel.token(service_url)  # a channel token lives an hour: reused, like Teams
    request = functools.partial(signed_activity, token, service_url)

    runs = AckRuns(args, request, ok_status=201)
    measure = runs.measure
    await runs.baseline("/api/messages")

    prefix = f"nexus-bench:{uuid.uuid4().hex[:8]}"
    try:
        async with database(args) as database_url:
            settings = settings_for(channel, database_url, args.redis_url, prefix)
            scratch = Database(database_url)
            await scratch.migrate()  # the references table, for the null-intake run
            await scratch.dispose()
            url, close = await teams_server(settings, NullIntake())
            await measure("teams, null intake", url)
            await close()
            intake, close_core = await real_core(settings)
            try:
                url, close = await teams_server(settings, intake)
                await measure(f"teams, real core ({database_url.split(':')[0]})", url)
                await close()
            finally:
                await close_core()
    finally:
        conn.send("stop")
        await asyncio.to_thread(fake.join)
        channel.stop()

    print_ack_table(
        console,
        f"Teams ack latency, {args.rate:g} activities/s for {args.seconds:g} s (ms)",
        runs.rows,
        deadline_ms=DEADLINE_MS,
        platform="Teams",
    )


if __name__ == "__main__":
    asyncio.run(main(ack_arguments(__doc__.splitlines()[0], "activities")))
