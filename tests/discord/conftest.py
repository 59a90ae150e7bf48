"""Fixtures for the Discord adapter tests: the fake Discord (REST, gateway, CDN)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from discord_helpers import RecordingIntake
from fake_discord import FakeDiscord

from adapters.discord.io import configure_rest_base


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    previous = discord.http.Route.BASE
    configure_rest_base(server.base_url)
    try:
        yield server
    finally:
        discord.http.Route.BASE = previous
        await server.close()


@pytest.fixture
def intake() -> RecordingIntake:
    return RecordingIntake()
