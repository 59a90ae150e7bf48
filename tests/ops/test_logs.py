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
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from ops_support import MARKER, QUESTION, SECRET, App, tips_with_marker

from core.logging import configure_logging


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Production logging into a buffer; the previous configuration is restored after."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", buffer)
        configure_logging("INFO", "json")
    try:
        yield buffer
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
async def job_logs(json_logs: io.StringIO, app: App) -> tuple[list[dict[str, Any]], str, str]:
    """(every line logged while one question was answered, its event id, its job id)."""
    start = json_logs.tell()
    acceptance = await app.ask_with_file(QUESTION, tips_with_marker(), event_id="ev-logs-1")
    assert acceptance.kind == "enqueued" and acceptance.job_id
    await app.sender.wait_replies(1, within=60)
    job_id = acceptance.job_id

    def lines() -> list[dict[str, Any]]:
        text = json_logs.getvalue()[start:]
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def finished() -> bool:  # ARQ's "job finished" line: "<secs> ← <job id>:<function> ●"
        return any(f"\u2190 {job_id}" in str(line.get("event")) for line in lines())

    async with asyncio.timeout(10):
        while not finished():  # noqa: ASYNC110 - a log line has no event to wait on
            await asyncio.sleep(0.05)
    return lines(), "ev-logs-1", job_id


def _of_job(lines: list[dict[str, Any]], event_id: str, job_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in lines
        if line.get("correlation_id") in (event_id, job_id.rsplit(":", 1)[-1])
        or line.get("job_id") == job_id
        or job_id in str(line.get("event", ""))
    ]


async def test_lines_are_json_without_text_content_or_secrets(
    job_logs: tuple[list[dict[str, Any]], str, str],
) -> None:
    lines, _, _ = job_logs
    assert lines, "nothing was logged"
    for line in lines:
        assert {"event", "level", "timestamp"} <= set(line), line
        rendered = json.dumps(line)
        assert QUESTION not in rendered, line
        assert MARKER not in rendered, line
        assert SECRET not in rendered, line


async def test_every_nexus_line_of_the_job_has_one_correlation_id(
    job_logs: tuple[list[dict[str, Any]], str, str],
) -> None:
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
