"""End to end: signed activities → the real botbuilder CloudAdapter on our endpoint →
the real conversation manager (Redis) → the in-process ARQ worker (``nexus dev``
wiring) with real charts → proactive replies through ``continue_conversation`` into
the fake Bot Connector. Answers are checked against pandas computed here.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pandas as pd
import pytest
import teams_activities as activities
from conversation.conversation_stack import wait_until
from fake_bot_framework import BOT_TOKEN, FakeChannelAuth, FakeConnector, Posted
from PIL import Image
from teams_harness import StartNexus, TeamsNexus

from adapters.teams.render import CARD_CONTENT_TYPE
from core.storage.repositories import jobs
from core.storage.repositories.jobs import FINISHED

pytestmark = pytest.mark.browser
QUESTION = "average tip by day"


def expected_means(csv: bytes) -> dict[str, float]:
    frame = pd.read_csv(io.BytesIO(csv))
    return {str(day): float(v) for day, v in frame.groupby("day")["tip"].mean().items()}


def card_of(posted: Posted) -> dict[str, Any]:
    (attachment,) = posted.attachments
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    card: dict[str, Any] = attachment["content"]
    return card


def table_cells(card: dict[str, Any]) -> dict[str, str]:
    """First column → second column of the card's Table (header row skipped)."""
    (table,) = [e for e in card["body"] if e["type"] == "Table"]
    rows = [[c["items"][0]["text"] for c in row["cells"]] for row in table["rows"][1:]]
    return {row[0]: row[1] for row in rows}


def chart_png(posted: Posted) -> Image.Image:
    (attachment,) = posted.attachments
    assert attachment["contentType"] == "image/png"
    prefix = "data:image/png;base64,"
    assert attachment["contentUrl"].startswith(prefix)
    data = base64.b64decode(attachment["contentUrl"][len(prefix) :])
    assert len(data) <= 1024 * 1024
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def job_count(nexus: TeamsNexus, workspace: str) -> int:
    async with nexus.runtime.database.session() as session:
        return len(await jobs.recent(session, workspace))


async def finished_jobs(nexus: TeamsNexus, workspace: str) -> bool:
    async with nexus.runtime.database.session() as session:
        rows = await jobs.recent(session, workspace)
    return bool(rows) and all(row.status in FINISHED for row in rows)


async def test_file_in_personal_chat_gets_a_proactive_reply_with_the_chart(
    start_nexus: StartNexus,
    channel_auth: FakeChannelAuth,
    connector: FakeConnector,
    tips_csv: bytes,
) -> None:
    nexus = await start_nexus(mode="dev", charts=True)
    url = connector.file_url("tips.csv", tips_csv)
    message = activities.message(
        connector.service_url,
        text=QUESTION,
        attachments=[activities.file_attachment("tips.csv", url)],
    )
    assert await nexus.post(message, channel_auth.header(connector.service_url)) == 201
    (typing,) = await connector.wait_for(1, kind="typing")
    answer, chart = await connector.wait_for(2, within=90)

    conversation = message["conversation"]["id"]
    for posted in (typing, answer, chart):
        assert posted.conversation_id == conversation
        assert posted.reply_to == message["id"]  # threaded under the asker's message
        assert posted.authorization == f"Bearer {BOT_TOKEN}"
    assert connector.downloads == [("tips.csv", None)]  # pre-authenticated: no token sent

    cells = table_cells(card_of(answer))
    for day, mean in expected_means(tips_csv).items():
        assert cells[day] == f"{mean:.2f}", (day, cells)
    assert any(e["type"] == "FactSet" for e in card_of(answer)["body"])  # the receipt
    image = chart_png(chart)
    assert 200 <= image.width <= 1024 and 100 <= image.height <= 1024
    assert not answer.body.get("text")  # text and image never share an activity


def solid_png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def test_channel_thread_mention_is_answered_in_that_thread_once_despite_a_resend(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    nexus = await start_nexus(mode="dev", charts=False)
    headers = channel_auth.header(connector.service_url)
    thread = activities.channel_thread()
    pasted = activities.message(
        connector.service_url,
        kind="channel",
        mention=True,
        conversation_id=thread,
        attachments=[activities.inline_image(connector.image_url(solid_png()))],
        text="what is in this picture",
    )
    # Teams resends what it did not see acked in 15 s: same conversation, same id.
    assert await nexus.post(pasted, headers) == 201
    assert await nexus.post(pasted, headers) == 201
    (answer,) = await connector.wait_for(1, within=60)
    assert answer.conversation_id == thread  # `;messageid=` kept: the same thread
    assert answer.reply_to == pasted["id"]
    assert "PNG image" in answer.body["text"]  # the worker really read the bytes
    # The pasted image lives on the connector host: fetched once, with the bot token.
    assert [auth for _, auth in connector.downloads] == [f"Bearer {BOT_TOKEN}"]
    await wait_until(lambda: finished_jobs(nexus, f"teams:{activities.TENANT}"))
    assert await job_count(nexus, f"teams:{activities.TENANT}") == 1
    assert len(list(connector.messages())) == 1


async def test_throttled_connector_is_retried_until_the_answer_lands(
    start_nexus: StartNexus,
    channel_auth: FakeChannelAuth,
    connector: FakeConnector,
    tips_csv: bytes,
) -> None:
    nexus = await start_nexus(mode="dev", charts=False)
    url = connector.file_url("tips.csv", tips_csv)
    message = activities.message(
        connector.service_url,
        text=QUESTION,
        attachments=[activities.file_attachment("tips.csv", url)],
    )
    # Throttled twice (once with Retry-After), then a gateway error: all retried.
    connector.failures += [(429, {"Retry-After": "0"}), (429, {}), (502, {})]
    assert await nexus.post(message, channel_auth.header(connector.service_url)) == 201
    (answer,) = await connector.wait_for(1, within=60)
    assert connector.failures == []
    assert connector.message_attempts == 4
    assert table_cells(card_of(answer))
