"""A worker SIGKILLed mid-job: ARQ re-runs the job on another worker after
``job_timeout + 10 s`` and the reply is posted exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from conversation_stack import StackFactory, wait_until

from adapters.testing_http import FakeChatServer
from core.events import FileRef

REPO = Path(__file__).resolve().parents[2]
JOB_TIMEOUT = 3
"""ARQ frees a dead worker's job ``JOB_TIMEOUT + 10`` s after it was picked up: that is
this test's floor (13 s). Lower buys a second or two, and leaves the job's own deadline
(80 % of it) too tight for the second worker on a loaded CI machine."""


def _start_worker(server_url: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("worker_process.py")), server_url],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_killed_worker_job_is_answered_once_by_another(
    make_stack: StackFactory, redis_url: str, tmp_path: Path, tips_csv: bytes
) -> None:
    stack = await make_stack(job_timeout_seconds=JOB_TIMEOUT)  # no worker in this process
    server = FakeChatServer()
    url = await server.start()
    server.files["F1"] = tips_csv
    server.hold_first_download("F1")  # the first worker hangs here until it is killed
    settings = stack.settings
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "REDIS_URL": redis_url,
        "DATABASE_URL": settings.resolved_database_url,
        "NEXUS_DATA_DIR": str(settings.data_dir),
        "NEXUS_REDIS_PREFIX": settings.redis_prefix,
        "NEXUS_QUEUE_NAME": settings.queue_name,
        "NEXUS_JOB_TIMEOUT": str(JOB_TIMEOUT),
        "NEXUS_WORKER_POLL_DELAY": "0.1",
        "NEXUS_LOG_LEVEL": "INFO",
    }
    log = tmp_path / "workers.log"
    first = _start_worker(url, env, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        ref = FileRef(id="F1", name="tips.csv", size=len(tips_csv))
        accepted = await stack.manager.accept(stack.inbound("how many rows are there", files=[ref]))
        assert accepted.kind == "enqueued" and accepted.job_id

        await server.wait_for(lambda: server.downloads["F1"] == 1, within=30)
        first.send_signal(signal.SIGKILL)
        assert await asyncio.to_thread(first.wait, 10) == -signal.SIGKILL
        second = _start_worker(url, env, log)

        # ARQ frees the job after job_timeout + 10 s; the second worker then runs it.
        await server.wait_for(lambda: len(server.replies) >= 1, within=45)

        async def final() -> bool:
            return await stack.job_status(accepted.job_id or "", "test:W") == "succeeded"

        await wait_until(final, within=15)
        assert [r.idempotency_key for r in server.replies] == [accepted.job_id]
        assert server.replies[0].text.startswith("Number of rows: 244")
        assert server.downloads["F1"] == 2  # once by each worker
        assert await stack.ledger.state(accepted.job_id) == "posted:succeeded"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.to_thread(process.wait, 15)
        await server.close()
    assert "try=2" in log.read_text()  # ARQ says it was the second try
