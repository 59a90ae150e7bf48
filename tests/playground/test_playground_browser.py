"""The playground end to end: a real `nexus dev` process, the page in Debian's Chromium.

What a person does in the browser — pick or drop a file, ask, follow up, act as
someone else, open the usage panel — and what they must see: answers whose numbers
match pandas, charts that change, errors worded as on the other platforms.
Screenshots of each step go to tests/artifacts/playground/ (and /tmp/playground-shots/).
"""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from llm.fakes import FakeLLMServer
from playground_support import ANSWER_SECONDS, UPLOAD_LIMIT, ChatPage, DevServer
from playwright.async_api import Locator, expect

from core.access import Permission, Role, require
from core.datasets.guards import check_file_size
from core.errors import AccessDeniedError, FileTooLargeError
from core.quota_messages import refusal_message
from core.settings import IngestLimits

# The first test also pays for `nexus dev` starting (minutes on a loaded machine).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(600),
]

LLM_QUESTION = "for smokers only, what is the typical tip on each day"
"""Beyond the rule planner: it goes to the (fake) LLM, which the test holds."""


async def test_upload_ask_and_change_the_chart(
    chat: ChatPage, files: Path, tips_csv: bytes, openai: FakeLLMServer
) -> None:
    llm_calls = openai.request_count
    await chat.send("average tip by day", files=[files / "tips.csv"])

    first = await chat.reply(1)
    await expect(first.get_by_test_id("chart")).to_be_visible()
    expected = pd.read_csv(io.BytesIO(tips_csv)).groupby("day")["tip"].mean()
    shown = await chat.table(first)
    assert shown.keys() == set(expected.index)
    for day, mean in expected.items():
        assert shown[day] == pytest.approx(mean, abs=5e-5)  # the page shows 4 decimals
    chart = first.get_by_test_id("chart")
    first_png = await chart.get_attribute("src") or ""
    assert first_png.startswith("data:image/png;base64,")
    assert await chart.evaluate("img => img.complete && img.naturalWidth") > 100
    receipt = first.get_by_test_id("receipt")
    assert await receipt.evaluate("d => d.open") is False  # collapsed until asked
    await receipt.locator("summary").click()
    await expect(receipt.locator("dl")).to_contain_text("tips.csv")
    await chat.screenshot("1-average-tip-by-day")

    await chat.send("make it a line chart")
    second = await chat.reply(2)
    await expect(second.get_by_test_id("chart")).to_be_visible()
    assert (await second.get_by_test_id("chart").get_attribute("src")) != first_png
    await second.get_by_test_id("receipt").locator("summary").click()
    await expect(second.get_by_test_id("receipt")).to_contain_text('"kind": "line"')
    await chat.screenshot("2-make-it-a-line-chart")
    assert openai.request_count == llm_calls  # both answered without the LLM


async def test_dropped_oversized_file_gets_a_clear_refusal(chat: ChatPage, files: Path) -> None:
    big = files / "big-tips.csv"
    data = big.read_text()
    drop = await chat.page.evaluate_handle(
        """([name, text]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], name, { type: "text/csv" }));
            return transfer;
        }""",
        [big.name, data],
    )
    await chat.page.dispatch_event("#main", "drop", {"dataTransfer": drop})
    await expect(chat.page.get_by_test_id("attachments")).to_contain_text(big.name)
    await chat.send("average tip by day")

    with pytest.raises(FileTooLargeError) as refused:
        check_file_size(big.name, len(data.encode()), IngestLimits(max_file_bytes=UPLOAD_LIMIT))
    reply = await chat.reply(1)
    await expect(reply).to_contain_text(refused.value.user_message)
    await expect(reply.get_by_test_id("chart")).to_have_count(0)
    await chat.screenshot("3-oversized-file")


async def test_a_viewer_is_refused(chat: ChatPage, files: Path) -> None:
    user = "viewer-bob"
    await chat.act_as(user)
    await chat.page.get_by_test_id("role").select_option("viewer")
    await chat.page.get_by_test_id("grant").click()  # `role <@viewer-bob> viewer`, as "you"
    await expect(await chat.reply(1)).to_contain_text(f"{user} is now viewer")

    await chat.send("average tip by day", files=[files / "tips.csv"])
    with pytest.raises(AccessDeniedError) as denied:
        require(Role.VIEWER, Permission.UPLOAD)  # uploading is checked first
    reply = await chat.reply(2)
    await expect(reply).to_contain_text(denied.value.user_message.replace("`", ""))
    await expect(reply.locator("code")).to_have_text("role @you analyst")  # `…` as code
    await expect(reply.get_by_test_id("result-table")).to_have_count(0)
    messages = chat.page.get_by_test_id("user-message")
    await expect(messages.last).to_contain_text(user)
    await chat.screenshot("4-viewer-refused")


async def test_progress_shows_while_the_job_runs(
    chat: ChatPage, files: Path, openai: FakeLLMServer
) -> None:
    release = asyncio.Event()
    held = openai.server_error(500)
    held.hold = release  # the LLM call waits here: the job is running meanwhile
    openai.script(held)
    try:
        await chat.send(LLM_QUESTION, files=[files / "tips.csv"])
        progress = chat.page.get_by_test_id("progress")
        await expect(progress).to_contain_text("Analysing", timeout=ANSWER_SECONDS * 1000)
        await expect(progress).to_be_visible()
        await chat.screenshot("5-progress-while-working")
    finally:
        release.set()
    reply = await chat.reply(1)
    # A provider outage reads as on Slack or Discord: what happened, and no charge.
    await expect(reply).to_contain_text("Every AI provider is unavailable right now")
    await expect(reply).to_contain_text("Your quota was not charged")
    await expect(chat.page.get_by_test_id("progress")).to_be_hidden()


async def test_usage_panel_matches_nexus_admin(chat: ChatPage, files: Path, dev: DevServer) -> None:
    await chat.send("how many rows are there", files=[files / "tips.csv"])
    await chat.reply(1)
    await chat.page.get_by_test_id("usage-toggle").click()
    panel = chat.page.get_by_test_id("usage")
    await expect(panel).to_contain_text("Usage of playground:local")

    report = await dev.admin("usage", "playground:local")
    admin_today = {
        kind: float(today.replace(",", ""))
        for kind, today in re.findall(r"│\s*(\w+)\s*│\s*([\d,.]+)\s*│", report)
    }
    tables = panel.locator("table")
    shown_usage = await _rows(tables.nth(0))
    for kind, today in admin_today.items():
        assert float(shown_usage[kind][0].replace(",", "")) == pytest.approx(today), kind
    quotas = await _rows(tables.nth(1))
    used, limit, left = (float(v.replace(",", "")) for v in quotas["analyses_per_day"])
    assert used == admin_today["analysis"] and left == limit - used
    members = await _rows(tables.nth(2))
    assert members["you"] == ["owner"]
    await chat.screenshot("6-usage-panel")


async def test_a_quota_set_by_the_operator_refuses_the_next_question(
    chat: ChatPage, files: Path, dev: DevServer
) -> None:
    await chat.send("how many rows are there", files=[files / "tips.csv"])
    await expect(await chat.reply(1)).to_contain_text("Number of rows")
    await dev.set_quotas(analyses_per_day=1)
    try:
        await chat.send("average tip by day")
        now = datetime.now(UTC)
        limit_reached = refusal_message(
            "count", "analyses", window="day", per_user=False, used=1, maximum=1, amount=1,
            resets_at=now, now=now,
        ).split(" The quota resets")[0]  # fmt: skip
        reply = await chat.reply(2)
        await expect(reply).to_contain_text(limit_reached)
        await expect(reply).to_contain_text("The quota resets at 00:00 UTC")
        await chat.screenshot("7-quota-reached")
    finally:
        await dev.set_quotas(analyses_per_day=200)


async def _rows(table: Locator) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for row in await table.locator("tbody tr").all():
        cells = await row.locator("td").all_inner_texts()
        rows[cells[0]] = cells[1:]
    return rows
