"""Nexus with the Teams plugin, served on 127.0.0.1, as the Bot Framework sees it.

:class:`TeamsNexus` is the real runtime (``bot.runtime.open_runtime``: conversation
manager, Redis dedupe and ARQ queue, and in ``dev`` mode the in-process worker), the
real web app (``bot.web.build_app``) and the real :class:`~adapters.teams.TeamsPlugin`;
only outbound token minting is replaced (:class:`StaticTokenCredentials`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from fake_bot_framework import APP_ID, APP_PASSWORD, FakeChannelAuth, StaticTokenCredentials

from adapters.teams import TeamsPlugin
from adapters.teams.retry import ConnectorRetry
from bot.runtime import Mode, Runtime, open_runtime
from bot.web import build_app
from core.settings import Settings

StartNexus = Callable[..., Awaitable["TeamsNexus"]]
"""The ``start_nexus`` fixture: ``await start_nexus(mode="dev", charts=True, **settings)``."""
FAST_RETRY = ConnectorRetry(attempts=4, initial_seconds=0.05, max_seconds=0.5)


def teams_settings(
    channel: FakeChannelAuth | None,
    *,
    redis_url: str,
    prefix: str,
    tmp_path: Path,
    **overrides: Any,
) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        "data_dir": tmp_path / "data",
        "redis_prefix": prefix,
        "queue_name": f"{prefix}:queue",
        "worker_poll_delay_seconds": 0.05,
        "embedder": "none",  # documents are not under test; skip loading a model
    }
    if channel is not None:
        values.update(
            teams_app_id=APP_ID,
            teams_app_password=APP_PASSWORD,
            teams_openid_metadata_url=channel.metadata_url,
            teams_token_issuer=channel.issuer,
        )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class TeamsNexus:
    """The running app; :meth:`post` sends one activity to ``/api/messages``."""

    def __init__(self, runtime: Runtime, plugin: TeamsPlugin, runner: web.AppRunner, url: str):
        self.runtime, self.plugin, self.runner, self.url = runtime, plugin, runner, url
        self.session = aiohttp.ClientSession()

    @classmethod
    async def start(
        cls, settings: Settings, *, mode: Mode = "serve", charts: bool = False
    ) -> TeamsNexus:
        credentials = StaticTokenCredentials() if settings.teams_app_id else None
        plugin = TeamsPlugin(settings, credentials=credentials, retry=FAST_RETRY)
        runtime = await open_runtime(settings, plugins=[plugin], mode=mode, charts=charts)
        app = build_app(
            intake=runtime.manager,
            registry=runtime.registry,
            metrics=runtime.metrics.registry,
            routes=[lambda a: plugin.install_routes(a, runtime.manager)],
        )
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        return cls(runtime, plugin, runner, f"http://{host}:{port}")

    async def post(
        self, activity: dict[str, Any] | str, headers: dict[str, str] | None = None
    ) -> int:
        body = activity if isinstance(activity, str) else None
        async with self.session.post(
            f"{self.url}/api/messages",
            json=None if body is not None else activity,
            data=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as resp:
            await resp.read()
            return resp.status

    async def queued_jobs(self) -> int:
        """Jobs waiting in the ARQ queue (``serve`` mode has no worker taking them)."""
        count: int = await self.runtime.redis.zcard(self.runtime.settings.queue_name)
        return count

    async def close(self) -> None:
        await self.session.close()
        await self.runner.cleanup()
        await self.plugin.close()
        await self.runtime.close()
