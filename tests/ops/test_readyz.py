"""``/healthz`` and ``/readyz`` of a real ``nexus serve`` process.

The process gets its own redis-server on a free port (started here, never the shared
one on 6379); stopping that server must turn ``/readyz`` into a 503 that names Redis,
while ``/healthz`` (the process is alive) stays 200, and starting it again makes the
process ready again without a restart.

Both tests share one process (``nexus serve`` takes seconds to import and start); the
SIGTERM test ends it, so it comes last in the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_support import free_port, start_redis, stop


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for(url: str, status: int, within: float = 60) -> str:
    deadline = time.monotonic() + within
    last: tuple[int, str] | str = "no answer"
    while time.monotonic() < deadline:
        try:
            last = _get(url)
            if last[0] == status:
                return last[1]
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} within {within}s; last: {last}")


class Serve:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.redis_port = free_port()
        self.redis = start_redis(self.redis_port, tmp_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (tmp_path / "serve.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
        env.update(
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
            NEXUS_DATA_DIR=str(tmp_path / "data"),
            NEXUS_HOST="127.0.0.1",
            NEXUS_PORT=str(self.port),
            NEXUS_LOG_LEVEL="INFO",
        )
        nexus = Path(sys.executable).with_name("nexus")
        # cwd: the test's directory, so no developer .env is read
        self.process = subprocess.Popen(
            [str(nexus), "serve"], cwd=tmp_path, env=env, stdout=self.log, stderr=self.log
        )

    def close(self) -> None:
        stop(self.process)
        stop(self.redis)
        self.log.close()

    def output(self) -> str:
        return (self.tmp / "serve.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    running = Serve(tmp_path_factory.mktemp("serve"))
    try:
        yield running
    finally:
        running.close()


def test_readyz_follows_redis(serve: Serve) -> None:
    try:
        ready = _wait_for(serve.url + "/readyz", 200)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{serve.output()}") from None
    assert "redis: ok" in ready and "database: ok" in ready
    assert "slack: not configured" in ready and "discord: not configured" in ready

    stop(serve.redis)
    down = _wait_for(serve.url + "/readyz", 503, within=15)
    assert "redis: unreachable" in down
    assert "database: ok" in down
    assert _get(serve.url + "/healthz")[0] == 200  # alive, only not ready

    serve.redis = start_redis(serve.redis_port, serve.tmp)
    again = _wait_for(serve.url + "/readyz", 200, within=30)
    assert "redis: ok" in again


def test_shutdown_on_sigterm(serve: Serve) -> None:  # last: it stops the shared process
    try:
        _wait_for(serve.url + "/healthz", 200)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{serve.output()}") from None
    serve.process.terminate()
    assert serve.process.wait(30) == 0, serve.output()
    # the process logged JSON lines at NEXUS_LOG_LEVEL=INFO, one per platform's status
    lines = [json.loads(line) for line in serve.output().splitlines() if line.strip()]
    events = [line["event"] for line in lines]
    assert "listening" in events and "stopping" in events
    statuses = [line["status"] for line in lines if line["event"] == "platform"]
    assert any(s.startswith("slack: not configured") for s in statuses), statuses
    assert any(s.startswith("discord: not configured") for s in statuses), statuses
