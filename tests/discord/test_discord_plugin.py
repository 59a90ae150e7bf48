"""The plugin ``bot.platforms`` loads: configured only with credentials, one status line,
the HTTP route only with a public key, and loaded by name like every adapter."""

from __future__ import annotations

from aiohttp import web

from adapters.discord.routes import INTERACTIONS_PATH, DiscordPlugin
from bot.platforms import build_registry, load_plugins
from core.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_without_credentials_discord_is_not_configured() -> None:
    (plugin,) = load_plugins(settings(), modules=["adapters.discord"])
    assert isinstance(plugin, DiscordPlugin) and not plugin.configured
    assert plugin.status.startswith("discord: not configured")
    assert "discord" not in build_registry([plugin]).platforms


async def test_public_key_alone_mounts_the_interactions_route() -> None:
    plugin = DiscordPlugin(settings(discord_public_key="ab" * 32))
    assert plugin.configured and "HTTP interactions" in plugin.status
    app = web.Application()
    plugin.install_routes(app, intake=None)  # type: ignore[arg-type]
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert INTERACTIONS_PATH in paths
    await plugin.start(intake=None)  # type: ignore[arg-type]  # no bot token: no gateway
    assert build_registry([plugin]).get("discord").sender is plugin.io().sender
    await plugin.close()


def test_bot_token_alone_has_no_http_route() -> None:
    plugin = DiscordPlugin(settings(discord_bot_token="t"))
    app = web.Application()
    plugin.install_routes(app, intake=None)  # type: ignore[arg-type]
    assert not list(app.router.routes())
    assert plugin.status == "discord: gateway (slash commands, mentions, threads)"
