"""What the end-to-end LLM tests share: a question the planner refuses, the spec the
fake model answers it with, and `nexus dev` runtimes on real Redis and SQLite whose
providers are the fake servers of :mod:`llm.fakes`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from adapters.testing import RecordingSender, memory_io
from bot.platforms import StaticPlugin
from bot.runtime import Runtime, open_runtime
from core.settings import SandboxLimits, Settings

QUESTION = "for smokers only, what is the typical tip on each day"  # the planner refuses it
SMOKERS_BY_DAY: dict[str, Any] = {
    "dataset": 0,
    "spec": {
        "operation": "aggregate",
        "filters": [{"column": "smoker", "op": "==", "value": "Yes"}],
        "group_by": ["day"],
        "aggregations": [{"func": "mean", "column": "tip"}],
    },
}


def dev_settings(
    *, redis_url: str, redis_prefix: str, tmp_path: Path, **overrides: Any
) -> Settings:
    """`nexus dev` settings; ``overrides`` carry the provider keys and base URLs."""
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        "data_dir": tmp_path / "data",
        "redis_prefix": redis_prefix,
        "queue_name": f"{redis_prefix}:queue",
        "worker_poll_delay_seconds": 0.05,
        "job_timeout_seconds": 60.0,
        "sandbox_limits": SandboxLimits(preload=["pandas"], concurrency=1),
        "embedder": "none",  # documents by BM25 alone: the fakes serve no embeddings
    }
    return Settings(_env_file=None, **{**values, **overrides})  # type: ignore[call-arg]


class DevRuntimes:
    """`nexus dev` runtimes a test opened; :meth:`close` stops them and clears the queue."""

    def __init__(self, redis: Redis, redis_prefix: str) -> None:
        self._redis = redis
        self._prefix = redis_prefix
        self._runtimes: list[Runtime] = []

    async def open(
        self, settings: Settings, files: dict[str, bytes], *, charts: bool = False
    ) -> tuple[Runtime, RecordingSender]:
        """A runtime whose ``test`` platform serves ``files`` by id and records replies."""
        io_, sender, _ = memory_io(files)
        runtime = await open_runtime(
            settings, plugins=[StaticPlugin("test", io_)], mode="dev", charts=charts
        )
        self._runtimes.append(runtime)
        return runtime, sender

    async def close(self) -> None:
        for runtime in self._runtimes:
            await runtime.close()
        async for key in self._redis.scan_iter(match=f"arq:*{self._prefix}:*", count=1000):
            await self._redis.delete(key)
