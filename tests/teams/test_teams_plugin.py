"""The ``bot.platforms`` hook: status lines, and the worker's registry."""

from __future__ import annotations

from pathlib import Path

from fake_bot_framework import FakeChannelAuth
from teams_harness import teams_settings

from adapters.teams.fetch import TeamsFetcher
from adapters.teams.io import TeamsSender
from bot.platforms import build_registry, load_plugins


def test_unconfigured_teams_is_listed_but_not_registered(tmp_path: Path, redis_url: str) -> None:
    settings = teams_settings(None, redis_url=redis_url, prefix="p", tmp_path=tmp_path)
    (plugin,) = load_plugins(settings, modules=["adapters.teams"])
    assert plugin.platform == "teams" and not plugin.configured
    assert plugin.status.startswith("teams: not configured (set TEAMS_APP_ID")
    assert build_registry([plugin]).platforms == {}


async def test_configured_teams_gives_the_worker_a_sender_and_fetcher(
    tmp_path: Path, redis_url: str, channel_auth: FakeChannelAuth
) -> None:
    settings = teams_settings(channel_auth, redis_url=redis_url, prefix="p", tmp_path=tmp_path)
    (plugin,) = load_plugins(settings, modules=["adapters.teams"])
    assert plugin.configured and plugin.status == "teams: Bot Framework messages at /api/messages"
    io = build_registry([plugin]).get("teams")
    assert isinstance(io.sender, TeamsSender) and isinstance(io.fetcher, TeamsFetcher)
    await plugin.close()
