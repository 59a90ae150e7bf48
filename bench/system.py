"""The real processes on loopback: ``nexus serve`` and ``nexus worker`` subprocesses,
fed by the fake Slack Web API and the fake Discord REST/CDN served in this process.

Each :class:`NexusSystem` has its own Redis key prefix and queue, its own data dir and
the database URL it is given; the fakes time-stamp every call they receive, so a
caller can tell when an answer was posted (:meth:`answered_at`).
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
from typing import Any

import aiohttp
import platforms  # noqa: F401  (first: it puts the tests' fakes on sys.path)
from fake_discord import FakeDiscord
from fake_slack import FakeSlack, Team
from platforms import (
    DISCORD_PUBLIC_KEY,
    PLATFORMS,
    SLACK_CHANNEL,
    SLACK_SECRET,
    SLACK_TEAM,
    UNLIMITED,
)
from redis.asyncio import Redis

from core.storage.db import Database
from core.storage.repositories import workspaces

NEXUS = str(Path(sys.executable).with_name("nexus"))


class TimedSlack(FakeSlack):
    """The fake Slack, noting when each Web API call arrived (epoch seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []

    async def _api(self, request: Any) -> Any:
        response = await super()._api(request)
        self.stamps.extend([time.time()] * (len(self.calls) - len(self.stamps)))
        return response


class TimedDiscord(FakeDiscord):
    """The fake Discord, noting when each REST request arrived (epoch seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []

    async def _rest(self, request: Any) -> Any:
        response = await super()._rest(request)
        self.stamps.extend([time.time()] * (len(self.requests) - len(self.stamps)))
        return response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """Resident set size of a process (and not its children), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class NexusSystem:
    redis_url: str
    database_url: str
    prefix: str
    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    slack: TimedSlack = field(default_factory=TimedSlack)
    discord: TimedDiscord = field(default_factory=TimedDiscord)
    team: Team | None = None
    serve: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    url: str = ""
    worker_urls: dict[int, str] = field(default_factory=dict)

    @property
    def ids(self) -> dict[str, str]:
        """Ids the fakes issued, which payloads must carry."""
        assert self.team is not None
        return {"slack_bot": self.team.bot_user_id, "discord_app": self.discord.application_id}

    def env(self) -> dict[str, str]:
        assert self.team is not None
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
            **self.env_extra,
        }

    async def start(self, workers: int = 1) -> NexusSystem:
        await self.slack.start()
        await self.discord.start()
        self.team = self.slack.add_team(SLACK_TEAM, channels=(SLACK_CHANNEL,))
        await self.provision()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.serve = self._spawn("serve", "--host", "127.0.0.1", "--port", str(port))
        for _ in range(workers):
            self.add_worker()
        await self.wait_ready()
        return self

    async def provision(self) -> None:
        """Migrate, and give both workspaces unlimited quotas: every event takes the
        full accept path rather than a refusal."""
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
        log = (self.workdir / f"{args[0]}-{len(self.workers)}.log").open("ab")
        # cwd: the work dir, so no developer .env is read
        return subprocess.Popen(
            [NEXUS, *args], cwd=self.workdir, env={**self.env(), **env}, stdout=log, stderr=log
        )

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
        urls = [self.url + "/readyz", *(self.worker_urls[w.pid] for w in self.workers)]
        processes = [self.serve, *self.workers]
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
        assert self.serve is not None
        found = {"serve": self.serve.pid}
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
        if self.serve is not None and self.serve.poll() is None:
            self.serve.terminate()
            await asyncio.to_thread(self.serve.wait, 30)
        await self.slack.stop()
        await self.discord.close()
        redis = Redis.from_url(self.redis_url)
        try:
            for pattern in (f"{self.prefix}*", f"arq:*{self.prefix}*"):
                keys = [k async for k in redis.scan_iter(match=pattern, count=1000)]
                for start in range(0, len(keys), 500):
                    await redis.delete(*keys[start : start + 500])
        finally:
            await redis.aclose()  # type: ignore[attr-defined]

    # -- answers ------------------------------------------------------------------------
    def slack_chart_at(self, thread: str, after: float) -> float | None:
        """When a chart was completed into ``thread`` after ``after`` (epoch s)."""
        for call, at in zip(self.slack.calls, self.slack.stamps, strict=False):
            if (
                at >= after
                and call.method == "files.completeUploadExternal"
                and call.params.get("thread_ts") == thread
            ):
                return at
        return None

    def slack_done_at(self, ts: str) -> float | None:
        """When the question posted at ``ts`` got its check mark (its answer is out)."""
        for call, at in zip(self.slack.calls, self.slack.stamps, strict=False):
            if (
                call.method == "reactions.add"
                and call.params.get("timestamp") == ts
                and call.params.get("name") == "white_check_mark"
            ):
                return at
        return None

    def slack_text_at(self, thread: str, after: float) -> float | None:
        for call, at in zip(self.slack.calls, self.slack.stamps, strict=False):
            if (
                at >= after
                and call.method == "chat.postMessage"
                and call.params.get("thread_ts") == thread
            ):
                return at
        return None

    def discord_answer_at(self, token: str, *, chart: bool) -> float | None:
        """When ``@original`` of the interaction with ``token`` was edited (with a file)."""
        suffix = f"/{token}/messages/@original"
        for rec, at in zip(self.discord.requests, self.discord.stamps, strict=False):
            if rec.method == "PATCH" and rec.path.endswith(suffix) and (rec.files or not chart):
                return at
        return None
