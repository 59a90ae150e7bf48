"""Fixtures for the Slack adapter: the fake Slack and harnesses serving the real bolt
app through our aiohttp routes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fake_slack import FakeSlack, Team
from redis.asyncio import Redis
from slack_harness import RecordingIntake, SlackHarness, serve, slack_settings

from adapters.slack.factory import build_slack_adapter
from core.settings import Settings
from core.storage.db import Database


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def harness_factory(
    fake_slack: FakeSlack, redis_client: Redis, redis_prefix: str
) -> AsyncIterator[Callable[..., Any]]:
    """Build harnesses (single-token by default); everything is closed afterwards."""
    cleanups: list[Any] = []

    async def make(
        intake: Any = None,
        *,
        team: Team | None = None,
        settings: Settings | None = None,
        database: Database | None = None,
    ) -> SlackHarness:
        team = team or fake_slack.add_team("T1", channels=("C1", "C2"))
        intake = intake or RecordingIntake()
        settings = settings or slack_settings(fake_slack, slack_bot_token=team.bot_token)
        adapter = build_slack_adapter(
            settings, intake, database=database, redis=redis_client, redis_prefix=redis_prefix
        )
        app = web.Application()
        adapter.mount(app)
        runner, url = await serve(app)
        session = aiohttp.ClientSession()
        cleanups.append((adapter, runner, session))
        return SlackHarness(fake_slack, team, adapter, intake, url, session)

    yield make
    for adapter, runner, session in cleanups:
        await session.close()
        await adapter.close()
        await runner.cleanup()
