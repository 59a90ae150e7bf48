"""Stopping the app while its worker is still starting (Ctrl-C during `nexus dev`).

The worker starts Chromium, the sandbox and milvus-lite. Stopped after Chromium is up
but before the rest, it must still close Chromium: a Chromium left running keeps
non-daemon threads in this process, so the process would never exit (a test run hung
that way once).
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from ops_support import charts_available, json_logs, running_app

SLOW_SANDBOX = ("pandas", "scipy.stats", "sklearn.linear_model")
"""A preload that takes longer than Chromium to start, so the stop falls in between."""


def _chromium_descendants() -> set[int]:
    """Chromium processes started from this process (through choreographer's wrapper)."""
    parents: dict[int, int] = {}
    chromium: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        if b"chromium" in command:
            chromium.add(int(entry.name))

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    return {pid for pid in chromium if descends(pid)}


def _non_daemon_threads() -> set[threading.Thread]:
    """Threads the interpreter waits for at exit, less the event loop's own executor
    (``asyncio_N``: idle workers, shut down with the loop)."""
    return {
        t
        for t in threading.enumerate()
        if not t.daemon and t is not threading.main_thread() and not t.name.startswith("asyncio_")
    }


async def test_a_stop_during_start_up_closes_what_had_started(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    assert charts_available(), "this test needs Chromium (/usr/bin/chromium)"
    threads_before = _non_daemon_threads()
    with json_logs() as logs:
        async with running_app(
            redis_url=redis_url,
            prefix=redis_prefix,
            data_dir=tmp_path / "data",
            charts=True,
            preload=SLOW_SANDBOX,
        ) as app:
            async with asyncio.timeout(60):
                while "chart browser started" not in logs.getvalue():  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            assert _chromium_descendants()
            assert app.runtime.worker.context is None  # still starting: the sandbox is not up
    # Stopped: Chromium is gone and nothing it started keeps this process alive.
    async with asyncio.timeout(15):
        while _chromium_descendants() or _non_daemon_threads() - threads_before:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
