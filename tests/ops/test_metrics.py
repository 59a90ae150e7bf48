"""``/metrics`` after a real job: a question with a file goes through the real app (the
conversation manager, Redis, the ARQ queue, the in-process worker, the pipeline, the
chart renderer when Chromium is installed) and the Prometheus text served by the app
shows what happened.

The series operators need are listed in docs/operations.md; the ones the app exports
today are checked here for the right values.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from metrics_scrape import Scrape, parse
from ops_support import QUESTION, App, fresh_app, tips_with_marker


async def _scrape(app: App) -> Scrape:
    status, text = await app.get("/metrics")
    assert status == 200
    return parse(text)


async def _one_job(redis_url: str, data_dir: Path) -> Scrape:
    async with fresh_app(redis_url, data_dir) as app:
        data = tips_with_marker()
        first = await app.ask_with_file(QUESTION, data, message_id="m-1", event_id="e-1")
        assert first.kind == "enqueued", first
        again = await app.ask_with_file(QUESTION, data, message_id="m-1", event_id="e-1")
        assert again.kind == "duplicate"
        await app.sender.wait_replies(1, within=60)
        # The worker counts the job just after posting its reply: scrape until it has.
        async with asyncio.timeout(10):
            while True:
                scrape = await _scrape(app)
                if scrape.value("nexus_jobs_total") >= 1:
                    return scrape
                await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def after_job(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Scrape:
    """One answered question and one redelivery of its event, then a scrape (once per
    module: a job with a warm-up of Chromium takes seconds)."""
    return asyncio.run(_one_job(redis_url, tmp_path_factory.mktemp("metrics")))


def test_events_and_accept_latency(after_job: Scrape) -> None:
    assert after_job.value("nexus_events_total", platform="test", outcome="enqueued") == 1
    assert after_job.value("nexus_events_total", platform="test", outcome="duplicate") == 1
    assert after_job.value("nexus_accept_seconds_count") == 2
    assert after_job.value("nexus_accept_seconds_sum") > 0


def test_job_outcome_duration_and_reply(after_job: Scrape) -> None:
    done = {"kind": "answer_question", "status": "succeeded"}
    assert after_job.value("nexus_jobs_total", **done) == 1
    assert after_job.value("nexus_jobs_total") == 1
    assert after_job.value("nexus_job_seconds_count", kind="answer_question") == 1
    assert after_job.value("nexus_job_seconds_sum", kind="answer_question") > 0
    assert after_job.value("nexus_replies_total", outcome="posted") == 1


def test_stage_durations_and_chart_render_time(after_job: Scrape) -> None:
    stages = after_job.label_values("nexus_job_stage_seconds_count", "stage")
    assert {"fetch", "ingest", "profile", "plan", "execute", "render", "deliver"} <= stages
    for stage in stages:
        assert after_job.value("nexus_job_stage_seconds_count", stage=stage) == 1, stage
    assert after_job.value("nexus_chart_render_seconds_count") == 1
    assert after_job.value("nexus_chart_render_seconds_sum") > 0


def test_queue_depth_is_read_at_scrape_time(after_job: Scrape) -> None:
    assert "nexus_queue_depth" in after_job.families
    assert after_job.value("nexus_queue_depth") == 0  # the one job is done
