"""End to end: real discord.py ↔ fake Discord, the real conversation manager, a real ARQ
worker (``nexus dev`` wiring from ``bot.runtime``), real Redis, SQLite, real charts.

Proves, over the gateway: ``/ask`` with a CSV attachment is deferred (type 5), the
worker downloads the attachment from the CDN, and ``@original`` is edited with the
answer (checked against pandas) and a valid chart PNG; a redelivered interaction gets
exactly one answer; an interaction whose token expires while the job runs is
answered in the channel with the bot token. Over HTTP: a signed ``/ask`` is deferred
in the response and answered the same way by the worker.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pandas as pd
import pytest
from aiohttp import web
from discord_helpers import ask_payload, assert_valid_png
from fake_discord import FakeDiscord, Recorded, snowflake
from nacl.signing import SigningKey

from adapters.discord.routes import DiscordPlugin
from bot.runtime import Runtime, open_runtime
from bot.web import build_app
from core.settings import Settings

pytestmark = [
    pytest.mark.browser,
]
KEY = SigningKey.generate()
QUESTION = "average tip by day"


def expected_means(csv: bytes) -> dict[str, float]:
    frame = pd.read_csv(io.BytesIO(csv))
    return {str(day): float(v) for day, v in frame.groupby("day")["tip"].mean().items()}


class Nexus:
    """``nexus dev`` in-process: runtime (manager + ARQ worker), web app, Discord plugin."""

    def __init__(self, runtime: Runtime, plugin: DiscordPlugin, url: str) -> None:
        self.runtime, self.plugin, self.url = runtime, plugin, url


@pytest.fixture
async def nexus(
    fake: FakeDiscord, redis_url: str, redis_client: object, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[Nexus]:
    settings = Settings(
        _env_file=None,
        redis_url=redis_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        data_dir=tmp_path / "data",
        redis_prefix=redis_prefix,
        queue_name=f"{redis_prefix}:queue",
        worker_poll_delay_seconds=0.05,
        discord_bot_token=fake.bot_token,
        discord_public_key=KEY.verify_key.encode().hex(),
        discord_api_url=fake.base_url,
    )
    plugin = DiscordPlugin(settings)
    runtime = await open_runtime(settings, plugins=[plugin], mode="dev", charts=True)
    app = build_app(
        intake=runtime.manager,
        registry=runtime.registry,
        metrics=runtime.metrics.registry,
        routes=[lambda a: plugin.install_routes(a, runtime.manager)],
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await plugin.start(runtime.manager)
    await asyncio.wait_for(fake.identified.wait(), 15)
    try:
        yield Nexus(runtime, plugin, f"http://127.0.0.1:{port}/discord/interactions")
    finally:
        await plugin.close()
        await runner.cleanup()
        await runtime.close()


def answers_with_files(fake: FakeDiscord) -> list[Recorded]:
    return [r for r in fake.requests if r.files and "/messages" in r.path]


def check_answer(message: Recorded, csv: bytes) -> None:
    (field, name, png) = message.files[0]
    assert field == "files[0]" and name.endswith(".png")
    width, height = assert_valid_png(png)
    assert width >= 200 and height >= 100  # a real rendered chart, not a placeholder
    assert message.json["attachments"][0]["filename"] == name
    summary = message.json["embeds"][0]
    assert summary["image"]["url"] == f"attachment://{name}"
    for day, mean in expected_means(csv).items():
        assert f"{day} {mean:.2f}" in summary["description"]
    assert any(e.get("title") == "Receipt" for e in message.json["embeds"])


async def test_ask_with_csv_is_deferred_then_answered_with_a_chart(
    fake: FakeDiscord, nexus: Nexus, tips_csv: bytes
) -> None:
    payload = ask_payload(
        fake,
        question=QUESTION,
        file_url=fake.host_file("tips.csv", tips_csv),
        file_size=len(tips_csv),
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    (answer,) = await fake.wait_for(lambda: answers_with_files(fake), within=30)

    assert fake.callbacks[payload["id"]] == [{"type": 5}]
    assert answer.method == "PATCH"
    assert answer.path == f"/webhooks/{fake.application_id}/INTERACTION_TOKEN/messages/@original"
    check_answer(answer, tips_csv)
    assert [r for r in fake.requests if r.path.startswith("/cdn")] == []  # CDN is not REST
    assert not fake.of("POST", "/channels/")


async def test_redelivered_interaction_gets_one_answer(
    fake: FakeDiscord, nexus: Nexus, tips_csv: bytes
) -> None:
    payload = ask_payload(
        fake,
        question=QUESTION,
        file_url=fake.host_file("tips.csv", tips_csv),
        file_size=len(tips_csv),
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.dispatch("INTERACTION_CREATE", payload)  # a RESUME replay
    await fake.wait_for(lambda: answers_with_files(fake), within=30)
    await asyncio.sleep(1.0)  # room for a second answer, if one were coming

    assert len(answers_with_files(fake)) == 1
    assert len(fake.of("POST", "/callback")) == 2 and len(fake.callbacks[payload["id"]]) == 1
    assert not fake.of("POST", f"/webhooks/{fake.application_id}/INTERACTION_TOKEN")
    assert not fake.of("POST", "/channels/")


async def test_token_expiring_during_the_job_falls_back_to_the_channel(
    fake: FakeDiscord, nexus: Nexus, tips_csv: bytes
) -> None:
    # Acked in time, but the token's 15 minutes run out before the answer is ready.
    old = snowflake(time.time() - 15 * 60 + 10)
    payload = ask_payload(
        fake,
        question=QUESTION,
        interaction_id=old,
        file_url=fake.host_file("tips.csv", tips_csv),
        file_size=len(tips_csv),
    )
    await fake.dispatch("INTERACTION_CREATE", payload)
    (answer,) = await fake.wait_for(lambda: answers_with_files(fake), within=30)

    assert fake.callbacks[payload["id"]] == [{"type": 5}]
    assert answer.method == "POST" and answer.path == "/channels/444444444444444444/messages"
    assert answer.headers["Authorization"] == f"Bot {fake.bot_token}"
    assert answer.json["content"].startswith("<@999>")
    check_answer(answer, tips_csv)
    assert not [r for r in fake.of("PATCH", "/webhooks/") if r.files]


async def test_http_interaction_is_deferred_then_answered(
    fake: FakeDiscord, nexus: Nexus, tips_csv: bytes
) -> None:
    payload = ask_payload(
        fake,
        question=QUESTION,
        token="HTTP_TOKEN",
        guild_id="556",
        file_url=fake.host_file("tips.csv", tips_csv),
        file_size=len(tips_csv),
    )
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Signature-Ed25519": KEY.sign(stamp.encode() + body).signature.hex(),
        "X-Signature-Timestamp": stamp,
        "Content-Type": "application/json",
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(nexus.url, data=body, headers=headers) as response,
    ):
        assert response.status == 200
        assert await response.json() == {"type": 5}
    (answer,) = await fake.wait_for(lambda: answers_with_files(fake), within=30)
    assert answer.path == f"/webhooks/{fake.application_id}/HTTP_TOKEN/messages/@original"
    check_answer(answer, tips_csv)
