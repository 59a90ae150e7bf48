"""The real processes on loopback: ``nexus serve`` and ``nexus worker`` subprocesses,
fed by the fake Slack Web API, the fake Discord REST/CDN and the fake Bot Framework
(connector in this process's loop, channel OpenID/JWKS in a thread of it).

Each :class:`NexusSystem` has its own Redis key prefix and queue, its own data dir and
the database URL it is given; the fakes time-stamp every call they receive, so a
caller can tell when an answer was posted (``bench/timed_fakes.py``). The processes
are the installed command line started through ``bench/nexus_offline.py``, which
only gives Teams the fake connector's outbound token instead of asking Azure AD.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import platforms  # noqa: F401  (first: it puts the tests' fakes on sys.path)
from fake_bot_framework import APP_ID, APP_PASSWORD, FakeChannelAuth
from fake_slack import Team
from nexus_offline import TOKEN_VARIABLE
from platforms import (
    DISCORD_PUBLIC_KEY,
    PLATFORMS,
    SLACK_CHANNEL,
    SLACK_SECRET,
    SLACK_TEAM,
    UNLIMITED,
)
from redis.asyncio import Redis
from teams_platform import CHANNEL_KEY
from timed_fakes import TimedConnector, TimedDiscord, TimedSlack

from core.storage.db import Database
from core.storage.repositories import workspaces

NEXUS = [sys.executable, str(Path(__file__).resolve().with_name("nexus_offline.py"))]
"""``nexus`` as installed, with Teams' outbound tokens from the fake connector."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class NexusSystem:
    redis_url: str
    database_url: str
    prefix: str
    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    worker_nice: int = 0
    """CPU priority of the workers (and their Chromium) below the web tier's, as web
    pods with CPU requests of their own have it beside busy worker pods."""
    slack: TimedSlack = field(default_factory=TimedSlack)
    discord: TimedDiscord = field(default_factory=TimedDiscord)
    connector: TimedConnector = field(default_factory=TimedConnector)
    channel: FakeChannelAuth | None = None
    team: Team | None = None
    serves: list[subprocess.Popen[bytes]] = field(default_factory=list)
    """``nexus serve`` replicas, each on its own port, as behind a load balancer."""
    urls: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_urls: dict[int, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def ids(self) -> dict[str, str]:
        """Ids the fakes issued, which payloads must carry."""
        assert self.team is not None
        return {
            "slack_bot": self.team.bot_user_id,
            "discord_app": self.discord.application_id,
            "teams_service_url": self.connector.service_url,
        }

    def env(self) -> dict[str, str]:
        assert self.team is not None and self.channel is not None and self.connector.token
        keep = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        keep = {k: v for k, v in keep.items() if not k.startswith(("SLACK_", "DISCORD_", "TEAMS_"))}
        return {
            **keep,
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "NEXUS_DATA_DIR": str(self.workdir / "data"),
            "NEXUS_REDIS_PREFIX": self.prefix,
            "NEXUS_QUEUE_NAME": f"{self.prefix}:queue",
            "NEXUS_LOG_LEVEL": "WARNING",
            "NEXUS_WORKER_POLL_DELAY": "0.05",
            "SLACK_BOT_TOKEN": self.team.bot_token,
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "DISCORD_PUBLIC_KEY": DISCORD_PUBLIC_KEY,
            "DISCORD_API_URL": self.discord.base_url,
            "TEAMS_APP_ID": APP_ID,
            "TEAMS_APP_PASSWORD": APP_PASSWORD,
            "TEAMS_OPENID_METADATA_URL": self.channel.metadata_url,
            "TEAMS_TOKEN_ISSUER": self.channel.issuer,
            TOKEN_VARIABLE: self.connector.token,
            **self.env_extra,
        }

    async def start(self, workers: int = 1, web: int = 1) -> NexusSystem:
        await self.slack.start()
        await self.discord.start()
        await self.connector.start()
        # In a thread: botbuilder fetches the channel's keys with blocking requests.
        self.channel = FakeChannelAuth(key=CHANNEL_KEY).start()
        self.team = self.slack.add_team(SLACK_TEAM, channels=(SLACK_CHANNEL,))
        await self.provision()
        for _ in range(web):
            port = free_port()
            self.urls.append(f"http://127.0.0.1:{port}")
            self.serves.append(self._spawn("serve", "--host", "127.0.0.1", "--port", str(port)))
        for _ in range(workers):
            self.add_worker()
        await self.wait_ready()
        return self

    async def provision(self) -> None:
        """Migrate, and give every platform's workspace unlimited quotas: every event
        takes the full accept path rather than a refusal."""
        database = Database(self.database_url)
        try:
            await database.migrate()
            async with database.session() as session:
                for platform in PLATFORMS.values():
                    await workspaces.get_or_create(
                        session,
                        platform.workspace,
                        platform=platform.name,
                        settings={"quotas": UNLIMITED},
                    )
        finally:
            await database.dispose()

    def _spawn(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        number = len(self.workers if args[0] == "worker" else self.serves)
        log = (self.workdir / f"{args[0]}-{number}.log").open("ab")
        nice = self.worker_nice if args[0] == "worker" else 0
        # cwd: the work dir, so no developer .env is read
        return subprocess.Popen(
            [*NEXUS, *args], cwd=self.workdir, env={**self.env(), **env}, stdout=log, stderr=log,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )  # fmt: skip

    def add_worker(self) -> subprocess.Popen[bytes]:
        """Start a ``nexus worker``; its own metrics port tells when it is up."""
        port = free_port()
        worker = self._spawn(
            "worker", NEXUS_WORKER_METRICS_PORT=str(port), NEXUS_WORKER_METRICS_HOST="127.0.0.1"
        )
        self.workers.append(worker)
        self.worker_urls[worker.pid] = f"http://127.0.0.1:{port}/healthz"
        return worker

    async def wait_ready(self, within: float = 600.0) -> None:
        """Until ``/readyz`` of serve and ``/healthz`` of every worker answer 200."""
        urls = [u + "/readyz" for u in self.urls] + [self.worker_urls[w.pid] for w in self.workers]
        processes = [*self.serves, *self.workers]
        last = "no answer"
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while urls and time.monotonic() < deadline:
                exited = [p.args for p in processes if p is not None and p.poll() is not None]
                assert not exited, f"exited: {exited} {[p and p.returncode for p in processes]}"
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(urls[0]) as response:
                        last = await response.text()
                        if response.status == 200:
                            urls.pop(0)
                            continue
                await asyncio.sleep(0.1)
        if urls:
            raise TimeoutError(f"{urls[0]} not ready in {within} s: {last}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.workdir.glob("*.log"))

    def pids(self) -> dict[str, int]:
        found = {f"serve{i + 1}" if i else "serve": s.pid for i, s in enumerate(self.serves)}
        found.update({f"worker{i + 1}": w.pid for i, w in enumerate(self.workers)})
        return found

    async def stop_worker(self, worker: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        if worker.poll() is None:
            worker.send_signal(sig)
            try:
                await asyncio.to_thread(worker.wait, 30)
            except subprocess.TimeoutExpired:  # still draining a backlog: stop it hard
                worker.kill()
                await asyncio.to_thread(worker.wait, 10)
        self.workers.remove(worker)

    async def close(self) -> None:
        for worker in list(self.workers):
            await self.stop_worker(worker)
        for serve in self.serves:
            if serve.poll() is None:
                serve.terminate()
                await asyncio.to_thread(serve.wait, 30)
        await self.slack.stop()
        await self.discord.close()
        await self.connector.stop()
        if self.channel is not None:
            self.channel.stop()
        redis = Redis.from_url(self.redis_url)
        try:
            for pattern in (f"{self.prefix}*", f"arq:*{self.prefix}*"):
                keys = [k async for k in redis.scan_iter(match=pattern, count=1000)]
                for start in range(0, len(keys), 500):
                    await redis.delete(*keys[start : start + 500])
        finally:
            await redis.aclose()  # type: ignore[attr-defined]
