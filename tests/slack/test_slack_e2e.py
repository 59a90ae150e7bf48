"""End to end: signed Slack requests → the real bolt app → the real conversation
manager → a real ARQ worker (``nexus dev`` wiring from ``bot.runtime``) → the real
AsyncWebClient posting into the fake Slack. Real Redis, SQLite or PostgreSQL, real
charts. Answers are checked against pandas computed here.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import slack_payloads as payloads
from aiohttp import web
from fake_slack import FakeSlack, Upload
from ops.metrics_scrape import scrape
from png_check import png_size
from redis.asyncio import Redis
from slack_harness import Nexus, install, serve

from adapters.slack.plugin import SlackPlugin
from bot.runtime import open_runtime
from bot.serving import runtime_app
from core.settings import Settings
from core.storage.repositories import datasets, workspaces

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
]
QUESTION = "average tip by day"


def expected_means(csv: bytes) -> dict[str, float]:
    frame = pd.read_csv(io.BytesIO(csv))
    return {str(day): float(v) for day, v in frame.groupby("day")["tip"].mean().items()}


NexusFactory = Callable[..., Any]


@pytest.fixture
async def start_nexus(
    fake_slack: FakeSlack, redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[NexusFactory]:
    started: list[tuple[Nexus, web.AppRunner]] = []

    async def start(database_url: str | None = None, **slack: Any) -> Nexus:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            redis_url=redis_url,
            database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
            data_dir=tmp_path / "data",
            redis_prefix=redis_prefix,
            queue_name=f"{redis_prefix}:queue",
            worker_poll_delay_seconds=0.05,
            slack_signing_secret=payloads.SIGNING_SECRET,
            slack_api_url=fake_slack.api_url,
            **slack,
        )
        plugin = SlackPlugin(settings)
        runtime = await open_runtime(settings, plugins=[plugin], mode="dev", charts=True)
        runner, url = await serve(runtime_app(runtime, [plugin]))
        await plugin.start(runtime.manager)
        nexus = Nexus(runtime, plugin, url)
        started.append((nexus, runner))
        return nexus

    yield start
    for nexus, runner in started:
        await nexus.session.close()
        await nexus.plugin.close()
        await runner.cleanup()
        await nexus.runtime.close()


def charts_in(fake: FakeSlack, channel: str, thread: str) -> list[Upload]:
    return [u for u in fake.uploads.values() if (u.channel, u.thread_ts) == (channel, thread)]


def check_answer(fake: FakeSlack, channel: str, thread: str, csv: bytes) -> None:
    """One answer in the thread: the means in the table, then a real chart PNG."""
    answers = [m for m in fake.thread(channel, thread) if m.get("blocks")]
    (answer,) = answers
    table = next(
        b["text"]["text"] for b in answer["blocks"] if "```" in b.get("text", {}).get("text", "")
    )
    for day, mean in expected_means(csv).items():
        assert re.search(rf"^{day}\s+{mean:.2f}$", table, re.MULTILINE), (day, mean, table)
    assert answer["blocks"][-1]["type"] == "context"  # the receipt
    (chart,) = charts_in(fake, channel, thread)
    assert chart.data is not None and not chart.upload_had_auth
    width, height = png_size(chart.data)
    assert width >= 200 and height >= 100  # a real rendered chart, not a placeholder


async def test_file_then_mention_in_a_thread_is_answered_there_with_a_chart(
    fake_slack: FakeSlack, start_nexus: NexusFactory, tips_csv: bytes
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    nexus = await start_nexus(slack_bot_token=team.bot_token)
    bot = team.bot_user_id
    file = fake_slack.add_file(team, "tips.csv", tips_csv)
    upload = payloads.message("T1", bot, channel="C1", ts="50.1", thread_ts="50.0", files=[file])
    assert await nexus.post(upload) == 200
    ask = payloads.app_mention("T1", bot, channel="C1", ts="50.2", thread_ts="50.0", text=QUESTION)
    assert await nexus.post(ask) == 200
    await fake_slack.wait_until(lambda: bool(charts_in(fake_slack, "C1", "50.0")), within=60)

    check_answer(fake_slack, "C1", "50.0", tips_csv)
    # The file was downloaded with the bot token; the asker's message ends with ✅.
    assert fake_slack.downloads == [
        (file["url_private_download"].split("/files-pri/")[1], team.bot_token)
    ]
    await fake_slack.wait_until(
        lambda: fake_slack.reactions == {("C1", "50.2", "white_check_mark")}
    )
    metrics = await scrape(nexus.url)
    assert metrics.value("nexus_ack_seconds_count", platform="slack") == 2  # upload + ask
    assert metrics.value("nexus_events_rejected_total") == 0


async def test_forged_and_stale_requests_enqueue_nothing(
    fake_slack: FakeSlack, start_nexus: NexusFactory
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    nexus = await start_nexus(slack_bot_token=team.bot_token)
    ask = payloads.app_mention("T1", team.bot_user_id, channel="C1", ts="60.1", text=QUESTION)
    body, headers = payloads.signed_json(ask)
    assert await nexus.post_raw(body.replace(QUESTION, "drop everything"), headers) == 401
    assert await nexus.post(ask, timestamp=int(time.time()) - 301) == 401
    assert await nexus.job_count("slack:T1") == 0
    async with nexus.runtime.database.session() as session:
        assert await workspaces.get(session, "slack:T1") is None  # not even provisioned
    assert fake_slack.messages == [] and fake_slack.reactions == set()
    metrics = await scrape(nexus.url)
    assert metrics.value("nexus_events_rejected_total", platform="slack", reason="signature") == 2
    assert metrics.value("nexus_ack_seconds_count", platform="slack") == 2
    assert metrics.value("nexus_events_total") == 0  # nothing reached the manager


async def test_a_retried_delivery_and_its_message_twin_get_one_answer(
    fake_slack: FakeSlack, start_nexus: NexusFactory, tips_csv: bytes
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    nexus = await start_nexus(slack_bot_token=team.bot_token)
    bot = team.bot_user_id
    file = fake_slack.add_file(team, "tips.csv", tips_csv)
    ask = payloads.app_mention(
        "T1", bot, channel="C1", ts="70.1", text=QUESTION, files=[file], event_id="EvASK"
    )
    twin = payloads.message(
        "T1",
        bot,
        channel="C1",
        ts="70.1",
        text=f"<@{bot}> {QUESTION}",
        files=[file],
        event_id="EvTWIN",
    )
    fake_slack.rate_limit("chat.postMessage", retry_after=1)  # and Slack is busy, too
    statuses = await asyncio.gather(
        nexus.post(ask),
        nexus.post(ask, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}),
        nexus.post(twin),
    )
    assert statuses == [200, 200, 200]
    assert await nexus.post(ask, headers={"X-Slack-Retry-Num": "2"}) == 200
    await fake_slack.wait_until(lambda: bool(charts_in(fake_slack, "C1", "70.1")), within=60)
    await asyncio.sleep(1.0)  # room for a second answer, if one were coming

    check_answer(fake_slack, "C1", "70.1", tips_csv)  # exactly one answer and one chart
    assert len(fake_slack.downloads) == 1
    assert await nexus.job_count("slack:T1") == 1


async def test_a_viewer_is_refused_with_a_clear_message_and_no_job(
    fake_slack: FakeSlack, start_nexus: NexusFactory, tips_csv: bytes
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    nexus = await start_nexus(slack_bot_token=team.bot_token)
    async with nexus.runtime.database.session() as session:
        await workspaces.get_or_create(
            session, "slack:T1", platform="slack", settings={"default_role": "viewer"}
        )
    file = fake_slack.add_file(team, "tips.csv", tips_csv)
    bot = team.bot_user_id
    await nexus.post(
        payloads.message("T1", bot, channel="C1", ts="80.1", thread_ts="80.0", files=[file])
    )
    ask = payloads.app_mention("T1", bot, channel="C1", ts="80.2", thread_ts="80.0", text=QUESTION)
    assert await nexus.post(ask) == 200
    await fake_slack.wait_until(lambda: bool(fake_slack.thread("C1", "80.0")))

    (refusal,) = fake_slack.thread("C1", "80.0")
    text = refusal["blocks"][0]["text"]["text"]
    assert "role in this workspace is viewer" in text and "role @you analyst" in text
    assert await nexus.job_count("slack:T1") == 0
    assert fake_slack.downloads == [] and fake_slack.uploads == {}


async def test_two_workspaces_installed_through_oauth_stay_isolated(
    fake_slack: FakeSlack, start_nexus: NexusFactory, tips_csv: bytes, pg_database_url: str
) -> None:
    # Same channel and thread ids in both teams: only the workspace tells them apart.
    t1 = fake_slack.add_team("T1", channels=("C1",))
    t2 = fake_slack.add_team("T2", channels=("C1",))
    nexus = await start_nexus(
        database_url=pg_database_url,
        slack_client_id=fake_slack.client_id,
        slack_client_secret=fake_slack.client_secret,
    )
    for team, installer in ((t1, "UOWNER1"), (t2, "UOWNER2")):
        status, _, _ = await install(nexus.session, nexus.url, fake_slack, team, installer)
        assert status == 200
    # The installer is the owner; anyone else joins as an analyst.
    assert await nexus.command(payloads.slash_command("T1", text="role", user="UOWNER1")) == (
        "Your role here is owner."
    )
    assert await nexus.command(payloads.slash_command("T1", text="role", user="UALICE")) == (
        "Your role here is analyst."
    )
    assert "owner" in await nexus.command(payloads.slash_command("T2", text="role", user="UOWNER2"))

    file = fake_slack.add_file(t1, "tips.csv", tips_csv)
    await nexus.post(
        payloads.message(
            "T1", t1.bot_user_id, channel="C1", ts="90.1", thread_ts="90.0", files=[file]
        )
    )
    await nexus.post(
        payloads.app_mention(
            "T1", t1.bot_user_id, channel="C1", ts="90.2", thread_ts="90.0", text=QUESTION
        )
    )
    await nexus.post(
        payloads.app_mention(
            "T2", t2.bot_user_id, channel="C1", ts="90.2", thread_ts="90.0", text=QUESTION
        )
    )
    await fake_slack.wait_until(lambda: bool(charts_in(fake_slack, "C1", "90.0")), within=60)
    await fake_slack.wait_until(lambda: any(m["team"] == "T2" for m in fake_slack.messages))

    by_team = {
        team: [m for m in fake_slack.thread("C1", "90.0") if m["team"] == team and m.get("blocks")]
        for team in ("T1", "T2")
    }
    (answer,) = by_team["T1"]
    means = expected_means(tips_csv)
    assert f"{means['Sat']:.2f}" in str(answer["blocks"])
    (t2_reply,) = by_team["T2"]
    assert "no data" in t2_reply["text"].lower() and "Sat" not in t2_reply["text"]
    assert [u.team for u in fake_slack.uploads.values()] == ["T1"]
    # Every Web API call carried the token of the team it acted in.
    assert {c.token for c in fake_slack.calls if c.method == "files.completeUploadExternal"} == {
        t1.bot_token
    }
    async with nexus.runtime.database.session() as session:
        assert len(await datasets.list_for_scope(session, "slack:T1", "C1", "90.0")) == 1
        assert await datasets.list_for_scope(session, "slack:T2", "C1", "90.0") == []
