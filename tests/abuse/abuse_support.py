"""The real web app with every platform of ``bench/platforms.py`` mounted, for abuse.

``open_nexus`` wires it as ``nexus serve`` does (``bot.runtime`` + ``bot.web``), on
real Redis (the test's prefix and queue) and SQLite, with Slack, Discord and Teams
talking to their fakes (Teams: the fake channel, with the fixed key the platform
table signs with, and the fake Bot Connector). No worker: what an attack achieves is
measured by what reached the queue and the database, and by the server still
answering afterwards.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord
import platforms  # noqa: F401  (first: puts the platforms' fakes on sys.path)
from aiohttp import web
from fake_bot_framework import APP_ID, APP_PASSWORD, FakeChannelAuth, FakeConnector
from fake_bot_framework import StaticTokenCredentials as FakeTokens
from fake_discord import FakeDiscord
from fake_slack import FakeSlack, Team
from platforms import (
    DISCORD_PUBLIC_KEY,
    PLATFORMS,
    SLACK_CHANNEL,
    SLACK_SECRET,
    SLACK_TEAM,
    UNLIMITED,
    Platform,
    Question,
)
from redis.asyncio import Redis
from teams_harness import FAST_RETRY
from teams_platform import CHANNEL_KEY

from adapters.discord.routes import DiscordPlugin
from adapters.slack.plugin import SlackPlugin
from adapters.teams import TeamsPlugin
from bot.platforms import PlatformPlugin
from bot.runtime import Mode, Runtime, open_runtime
from bot.web import build_app
from core.queue import JobRequest, deserialize
from core.settings import Settings
from core.storage.repositories import workspaces


@dataclass
class Nexus:
    runtime: Runtime
    url: str
    session: aiohttp.ClientSession
    ids: dict[str, str]
    redis: Redis
    queue_name: str
    slack: FakeSlack
    discord: FakeDiscord
    connector: FakeConnector

    async def post(self, platform: Platform, body: bytes, headers: dict[str, str]) -> int:
        async with self.session.post(self.url + platform.path, data=body, headers=headers) as r:
            await r.read()
            return r.status

    async def queued(self) -> int:
        """Jobs waiting in this app's ARQ queue (nothing drains it)."""
        return int(await self.redis.zcard(self.queue_name))

    async def queued_requests(self) -> list[JobRequest]:
        """The requests of the queued jobs, read back as a worker would."""
        job_ids = await self.redis.zrange(self.queue_name, 0, -1)
        requests = []
        for job_id in job_ids:
            raw = await self.redis.get(b"arq:job:" + job_id)
            job = deserialize(raw)
            requests.append(JobRequest.model_validate(job["a"][0]))
        return requests

    async def alive(self) -> bool:
        async with self.session.get(self.url + "/healthz") as response:
            return response.status == 200


def question(n: int, text: str = "average tip by day", run: str = "abuse") -> Question:
    return Question(n, run, "1690000000.000100", text)


@contextlib.asynccontextmanager
async def open_nexus(
    *,
    redis_url: str,
    redis: Redis,
    prefix: str,
    tmp_path: Path,
    mode: Mode = "serve",
    slack: FakeSlack | None = None,
    fake_discord: FakeDiscord | None = None,
    channel: FakeChannelAuth | None = None,
    **settings: Any,
) -> AsyncIterator[Nexus]:
    """``serve`` (no worker: requests stay queued) or ``dev`` (an in-process worker
    answers through the fakes, which a caller may pass in, scripted to fail)."""
    slack = await (slack or FakeSlack()).start()
    fake_discord = await (fake_discord or FakeDiscord()).start()
    # The channel's OpenID/JWKS server runs in a thread: botbuilder fetches keys with
    # blocking requests inside the event loop. A caller's is shared, and kept running.
    own_channel = channel is None
    channel = channel or FakeChannelAuth(key=CHANNEL_KEY).start()
    connector = await FakeConnector().start()
    team: Team = slack.add_team(SLACK_TEAM, channels=(SLACK_CHANNEL,))
    config = Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=redis_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        data_dir=tmp_path / "data",
        redis_prefix=prefix,
        queue_name=f"{prefix}:queue",
        slack_bot_token=team.bot_token,
        slack_signing_secret=SLACK_SECRET,
        slack_api_url=slack.api_url,
        discord_public_key=DISCORD_PUBLIC_KEY,
        discord_api_url=fake_discord.base_url,
        teams_app_id=APP_ID,
        teams_app_password=APP_PASSWORD,
        teams_openid_metadata_url=channel.metadata_url,
        teams_token_issuer=channel.issuer,
        **settings,
    )
    previous_discord_base = discord.http.Route.BASE
    # Outbound Bot Connector tokens without Azure AD; inbound tokens are checked for real.
    teams = TeamsPlugin(config, credentials=FakeTokens(), retry=FAST_RETRY)
    plugins: list[PlatformPlugin] = [SlackPlugin(config), DiscordPlugin(config), teams]
    assert {p.platform for p in plugins} == set(PLATFORMS), "a platform of the table is not wired"
    runtime = await open_runtime(config, plugins=plugins, mode=mode, charts=False)
    app = build_app(
        intake=runtime.manager,
        registry=runtime.registry,
        metrics=runtime.metrics.registry,
        routes=[functools.partial(p.install_routes, intake=runtime.manager) for p in plugins],
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for plugin in plugins:
        await plugin.start(runtime.manager)
    async with runtime.database.session() as db:
        # Unlimited quotas: every request takes the full path instead of a refusal.
        for platform in PLATFORMS.values():
            await workspaces.get_or_create(
                db, platform.workspace, platform=platform.name, settings={"quotas": UNLIMITED}
            )
    ids = {
        "slack_bot": team.bot_user_id,
        "discord_app": fake_discord.application_id,
        "teams_service_url": connector.service_url,
    }
    session = aiohttp.ClientSession()
    try:
        yield Nexus(
            runtime, f"http://127.0.0.1:{port}", session, ids, redis, config.queue_name,
            slack, fake_discord, connector,
        )  # fmt: skip
    finally:
        await session.close()
        for plugin in plugins:
            await plugin.close()
        await runner.cleanup()
        await runtime.close()
        await slack.stop()
        await fake_discord.close()
        await connector.stop()
        if own_channel:
            channel.stop()  # up to half a second: the server polls for shutdown
        discord.http.Route.BASE = previous_discord_base
