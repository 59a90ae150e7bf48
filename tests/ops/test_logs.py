"""Logs of one full job, from the accept (the adapter's ack) to the posted reply.

The real app (``tests/ops/ops_support.py``) logs through ``core.logging`` configured
as in production (JSON, INFO); every line is captured. The question, a value from the
uploaded file and an API key from the settings must appear in no line, and the lines
of the job must be tied together by a correlation id.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from ops_support import MARKER, QUESTION, SECRET, fresh_app, json_logs, tips_with_marker

JobLogs = tuple[list[dict[str, Any]], str, str]
"""Every line logged while one question was answered, its event id, its job id."""


async def _answer_one(redis_url: str, data_dir: Path, logs: io.StringIO) -> JobLogs:
    async with fresh_app(redis_url, data_dir) as app:
        start = logs.tell()
        acceptance = await app.ask_with_file(QUESTION, tips_with_marker(), event_id="ev-logs-1")
        assert acceptance.kind == "enqueued" and acceptance.job_id
        await app.sender.wait_replies(1, within=60)
        job_id = acceptance.job_id

        def lines() -> list[dict[str, Any]]:
            text = logs.getvalue()[start:]
            return [json.loads(line) for line in text.splitlines() if line.strip()]

        def finished() -> bool:  # ARQ's "job finished" line: "<secs> ← <job id>:<function> ●"
            return any(f"\u2190 {job_id}" in str(line.get("event")) for line in lines())

        async with asyncio.timeout(10):
            while not finished():  # noqa: ASYNC110 - a log line has no event to wait on
                await asyncio.sleep(0.05)
        return lines(), "ev-logs-1", job_id


@pytest.fixture(scope="module")
def job_logs(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> JobLogs:
    """One question answered by the real app, once per module: both tests read the same
    lines, and starting the app's worker (Chromium, the sandbox, milvus-lite) takes
    seconds."""
    with json_logs() as logs:
        return asyncio.run(_answer_one(redis_url, tmp_path_factory.mktemp("logs"), logs))


def _of_job(lines: list[dict[str, Any]], event_id: str, job_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in lines
        if line.get("correlation_id") in (event_id, job_id.rsplit(":", 1)[-1])
        or line.get("job_id") == job_id
        or job_id in str(line.get("event", ""))
    ]


def test_lines_are_json_without_text_content_or_secrets(job_logs: JobLogs) -> None:
    lines, _, _ = job_logs
    assert lines, "nothing was logged"
    for line in lines:
        assert {"event", "level", "timestamp"} <= set(line), line
        rendered = json.dumps(line)
        assert QUESTION not in rendered, line
        assert MARKER not in rendered, line
        assert SECRET not in rendered, line


def test_every_nexus_line_of_the_job_has_one_correlation_id(job_logs: JobLogs) -> None:
    lines, event_id, job_id = job_logs
    ours = [line for line in _of_job(lines, event_id, job_id) if "component" in line]
    components = {line["component"] for line in ours}
    assert "conversation" in components  # the accept side (event_enqueued)
    assert components - {"conversation"}  # and the worker side
    # One id from the accept (the adapter's ack) to the posted reply; the job id ends in it.
    correlation = job_id.rsplit(":", 1)[-1]
    assert {line.get("correlation_id") for line in ours} == {correlation}, ours
    accepted = [line for line in ours if line["event"] == "event_enqueued"]
    assert [line.get("event_id") for line in accepted] == [event_id]  # the platform's id
