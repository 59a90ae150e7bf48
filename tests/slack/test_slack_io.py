"""SlackSender and SlackFetcher with the real AsyncWebClient against the fake Slack."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fake_slack import FakeSlack
from png_check import make_png, png_size

from adapters.slack.factory import build_slack_io
from core.errors import FileTooLargeError, UnsupportedFileError, UserFacingError
from core.events import (
    ConversationRef,
    FileRef,
    ImageSegment,
    ReceiptSegment,
    Reply,
    TableSegment,
    TextSegment,
)
from core.settings import IngestLimits, Settings


def conversation(team: str = "T1", channel: str = "C1", thread: str = "100.1") -> ConversationRef:
    return ConversationRef(
        platform="slack",
        workspace_id=team,
        channel_id=channel,
        thread_id=thread,
        data={"message_ts": "100.2"},
    )


def settings_for(fake: FakeSlack, token: str) -> Settings:
    return Settings(
        _env_file=None, slack_bot_token=token, slack_signing_secret="s", slack_api_url=fake.api_url
    )  # type: ignore[call-arg]


@pytest.fixture
async def slack_io(fake_slack: FakeSlack) -> Any:
    team = fake_slack.add_team("T1", channels=("C1",))
    io = build_slack_io(
        settings_for(fake_slack, team.bot_token),
        database=None,
        ingest=IngestLimits(max_file_bytes=1024),
    )
    yield io, team
    await io.close()


async def test_answer_text_then_chart_in_the_same_thread(
    fake_slack: FakeSlack, slack_io: Any
) -> None:
    io, team = slack_io
    png = make_png(32, 16)
    reply = Reply(
        conversation=conversation(),
        segments=[
            TextSegment(text="Saturday had the most revenue."),
            TableSegment(columns=["day", "revenue"], rows=[["Sat", 1778.4]]),
            ImageSegment.from_png(png, alt="Revenue by day", file_name="revenue.png"),
            ReceiptSegment(sources=["tips.csv"], rows_used=244),
        ],
        idempotency_key="job-1",
    )
    await io.sender.send(reply)
    (message,) = fake_slack.thread("C1", "100.1")
    assert message["text"] == "Saturday had the most revenue."
    assert [b["type"] for b in message["blocks"]] == ["section", "section", "context"]
    (upload,) = fake_slack.uploads.values()
    assert (upload.channel, upload.thread_ts, upload.title, upload.filename) == (
        "C1",
        "100.1",
        "Revenue by day",
        "revenue.png",
    )
    assert not upload.upload_had_auth and upload.data == png and png_size(upload.data) == (32, 16)
    # AsyncWebClient sends getUploadURLExternal's params in the query string, with a token.
    (get_url,) = fake_slack.calls_to("files.getUploadURLExternal")
    assert get_url.params["length"] == str(len(png)) and get_url.token == team.bot_token
    # The order in the thread: answer first, then the chart.
    order = [
        c.method
        for c in fake_slack.calls
        if c.method in ("chat.postMessage", "files.completeUploadExternal")
    ]
    assert order == ["chat.postMessage", "files.completeUploadExternal"]


async def test_rate_limited_calls_wait_retry_after_and_succeed(
    fake_slack: FakeSlack, slack_io: Any
) -> None:
    io, _ = slack_io
    fake_slack.rate_limit("chat.postMessage", retry_after=1)
    started = time.perf_counter()
    await io.sender.send(Reply.from_text(conversation(), "hello", idempotency_key="k"))
    assert time.perf_counter() - started >= 1.0
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert [m["text"] for m in fake_slack.thread("C1", "100.1")] == ["hello"]


async def test_progress_is_one_status_line_for_long_work_updated_sparingly(
    fake_slack: FakeSlack, slack_io: Any
) -> None:
    io, _ = slack_io
    now = [0.0]
    sender = io.sender
    sender._clock = lambda: now[0]
    conv = conversation()
    await sender.acknowledge(conv)
    await sender.progress(conv, "job-2", "Reading sales.csv…")
    now[0] = 1.0
    await sender.progress(conv, "job-2", "Analysing…")  # quick so far: the reaction says it
    assert fake_slack.thread("C1", "100.1") == []
    now[0] = 4.0
    await sender.progress(conv, "job-2", "Still analysing…")
    now[0] = 6.0
    await sender.progress(conv, "job-2", "Rendering chart…")  # within the interval: skipped
    now[0] = 9.5
    await sender.progress(conv, "job-2", "Rendering chart…")
    (status,) = fake_slack.thread("C1", "100.1")
    assert status["text"].endswith("Rendering chart…") and status["edited"] == 1
    assert fake_slack.reactions == {("C1", "100.2", "eyes")}
    now[0] = 12.0
    await sender.send(Reply.from_text(conv, "Done: 42", idempotency_key="job-2"))
    assert status["text"] == ":white_check_mark: Done in 12 s." and status["edited"] == 2
    assert fake_slack.reactions == {("C1", "100.2", "white_check_mark")}


async def test_a_reply_without_the_working_reaction_gets_no_check_mark(
    fake_slack: FakeSlack, slack_io: Any
) -> None:
    io, _ = slack_io
    await io.sender.send(Reply.from_text(conversation(), "No permission.", idempotency_key="r"))
    assert fake_slack.reactions == set() and not fake_slack.calls_to("reactions.add")


async def test_fetch_uses_the_bot_token(fake_slack: FakeSlack, slack_io: Any) -> None:
    io, team = slack_io
    file = fake_slack.add_file(team, "sales.csv", b"region,amount\nnorth,3\n")
    ref = FileRef(
        id=file["id"],
        name="sales.csv",
        size=file["size"],
        download_url=file["url_private_download"],
        auth="platform",
    )
    assert await io.fetcher.fetch(ref, conversation()) == b"region,amount\nnorth,3\n"
    assert fake_slack.downloads[-1][1] == team.bot_token


async def test_a_sign_in_page_is_reported_not_parsed(fake_slack: FakeSlack, slack_io: Any) -> None:
    io, _ = slack_io
    other = fake_slack.add_team("T2", channels=("C9",))
    file = fake_slack.add_file(other, "secret.csv", b"a,b\n1,2\n")  # another team's file
    ref = FileRef(
        id=file["id"], name="secret.csv", download_url=file["url_private_download"], auth="platform"
    )
    with pytest.raises(UnsupportedFileError, match="sign-in page"):
        await io.fetcher.fetch(ref, conversation())


async def test_fetch_refusals(fake_slack: FakeSlack, slack_io: Any) -> None:
    io, team = slack_io
    big = fake_slack.add_file(team, "big.csv", b"x" * 4096)
    unsized = FileRef(
        id=big["id"], name="big.csv", download_url=big["url_private_download"], auth="platform"
    )
    with pytest.raises(FileTooLargeError):  # size unknown up front: cut off while reading
        await io.fetcher.fetch(unsized, conversation())
    with pytest.raises(FileTooLargeError):  # size known: refused before downloading
        await io.fetcher.fetch(unsized.model_copy(update={"size": 4096}), conversation())
    with pytest.raises(UnsupportedFileError, match="download link"):
        await io.fetcher.fetch(FileRef(id="F0", name="hidden.csv", auth="platform"), conversation())
    gone = FileRef(
        id="F9", name="gone.csv", download_url=f"{fake_slack.base_url}/nowhere", auth="platform"
    )
    with pytest.raises(UserFacingError, match="HTTP 404"):
        await io.fetcher.fetch(gone, conversation())
