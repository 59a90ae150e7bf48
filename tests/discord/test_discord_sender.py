"""DiscordSender and DiscordFetcher through discord.py against the fake Discord REST/CDN.

Proves: a reply edits ``@original`` as multipart with the PNG in ``files[0]`` and
``payload_json.attachments``, with the summary and receipt as embeds and no pings;
long answers continue as webhook follow-ups; an expired token (by time, or refused
by Discord mid-reply) falls back to the channel with the bot token without
reposting what already went out; a 429 with ``retry_after`` is retried by
discord.py; a mention is answered in a thread started on the user's message;
attachments download with size and expiry checks.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from discord_helpers import assert_valid_png, tiny_png
from fake_discord import FakeDiscord, snowflake

from adapters.discord.convert import TOKEN_LIFETIME_SECONDS, snowflake_seconds
from adapters.discord.fetch import DiscordFetcher
from adapters.discord.io import DiscordSender
from core.errors import FileTooLargeError, InputError
from core.events import (
    ConversationRef,
    FileRef,
    ImageSegment,
    ReceiptSegment,
    Reply,
    TextSegment,
)

CHANNEL = "444444444444444444"


def interaction_conv(fake: FakeDiscord, *, token: str = "TOKEN", age: float = 0) -> ConversationRef:
    interaction_id = snowflake(time.time() - age)
    return ConversationRef(
        platform="discord",
        workspace_id="555",
        channel_id=CHANNEL,
        data={
            "application_id": fake.application_id,
            "interaction_token": token,
            "token_expires_at": snowflake_seconds(interaction_id) + TOKEN_LIFETIME_SECONDS,
            "user_id": "999",
        },
    )


def answer(conv: ConversationRef, text: str = "Average tip is 3.00.") -> Reply:
    return Reply(
        conversation=conv,
        idempotency_key="job-1",
        segments=[
            TextSegment(text=text),
            ImageSegment.from_png(tiny_png(), alt="tips", file_name="chart.png"),
            ReceiptSegment(method="spec", sources=["tips.csv"], rows_used=244, duration_ms=120),
        ],
    )


@pytest.fixture
async def sender(fake: FakeDiscord) -> AsyncIterator[DiscordSender]:
    s = DiscordSender(bot_token=fake.bot_token)
    yield s
    await s.aclose()


async def test_answer_edits_original_with_png_and_embeds(
    fake: FakeDiscord, sender: DiscordSender
) -> None:
    await sender.send(answer(interaction_conv(fake)))
    (edit,) = fake.of("PATCH", "/messages/@original")
    assert edit.path == f"/webhooks/{fake.application_id}/TOKEN/messages/@original"
    assert "Authorization" not in edit.headers  # interaction webhooks need no bot token
    assert edit.headers["Content-Type"].startswith("multipart/form-data")
    (field, name, data) = edit.files[0]
    assert (field, name) == ("files[0]", "chart.png")
    assert_valid_png(data)
    body = edit.json
    assert body["attachments"] == [{"id": 0, "filename": "chart.png"}]
    summary, receipt = body["embeds"]
    assert summary["description"] == "Average tip is 3.00."
    assert summary["image"]["url"] == "attachment://chart.png"
    assert receipt["title"] == "Receipt"
    assert {"name": "Rows used", "value": "244", "inline": True} in receipt["fields"]
    assert body["allowed_mentions"]["parse"] == []
    assert not fake.of("POST", "/channels/")


async def test_long_answer_continues_in_followups(fake: FakeDiscord, sender: DiscordSender) -> None:
    text = "\n".join(f"Line {n}: " + "x" * 90 for n in range(60))  # ~6000 chars
    await sender.send(Reply.from_text(interaction_conv(fake), text, idempotency_key="k"))
    (edit,) = fake.of("PATCH", "/messages/@original")
    followups = fake.of("POST", f"/webhooks/{fake.application_id}/TOKEN")
    assert len(followups) >= 2
    sent = [m.json["content"] for m in [edit, *followups]]
    assert all(len(c) <= 2000 for c in sent)
    assert "\n".join(sent) == text


async def test_expired_token_falls_back_to_channel(
    fake: FakeDiscord, sender: DiscordSender
) -> None:
    await sender.send(answer(interaction_conv(fake, age=16 * 60)))
    assert not fake.of("PATCH", "/webhooks/")
    (post,) = fake.of("POST", f"/channels/{CHANNEL}/messages")
    assert post.headers["Authorization"] == f"Bot {fake.bot_token}"
    assert post.json["content"] == "<@999>"
    assert post.json["allowed_mentions"]["users"] == [999]
    assert post.json["embeds"][0]["description"] == "Average tip is 3.00."
    assert_valid_png(post.files[0][2])


async def test_token_refused_mid_reply_sends_only_the_rest(
    fake: FakeDiscord, sender: DiscordSender
) -> None:
    fake.expired_tokens.add("DEAD")
    await sender.send(answer(interaction_conv(fake, token="DEAD")))
    assert len(fake.of("PATCH", "/webhooks/")) == 1  # tried, got 401 Invalid Webhook Token
    (post,) = fake.of("POST", f"/channels/{CHANNEL}/messages")
    assert post.files and post.json["embeds"]


async def test_rate_limited_followup_is_retried(fake: FakeDiscord, sender: DiscordSender) -> None:
    fake.rate_limit("PATCH", "/webhooks/", retry_after=0.2)
    started = time.monotonic()
    await sender.send(answer(interaction_conv(fake)))
    assert len(fake.of("PATCH", "/webhooks/")) == 2
    assert time.monotonic() - started >= 0.2


async def test_rate_limited_channel_post_is_retried(
    fake: FakeDiscord, sender: DiscordSender
) -> None:
    fake.rate_limit("POST", f"/channels/{CHANNEL}/messages", retry_after=0.3)
    started = time.monotonic()
    await sender.send(answer(interaction_conv(fake, age=20 * 60)))
    posts = fake.of("POST", f"/channels/{CHANNEL}/messages")
    assert len(posts) == 2 and posts[-1].files
    assert time.monotonic() - started >= 0.3


async def test_mention_reply_starts_a_thread_on_the_message(
    fake: FakeDiscord, sender: DiscordSender
) -> None:
    message_id = snowflake(seq=77)
    conv = ConversationRef(
        platform="discord",
        workspace_id="555",
        channel_id=CHANNEL,
        thread_id=message_id,
        data={"message_id": message_id, "start_thread": True, "thread_name": "average tip"},
    )
    fake.unknown_channels.add(message_id)
    await sender.send(answer(conv))
    (thread,) = fake.of("POST", f"/channels/{CHANNEL}/messages/{message_id}/threads")
    assert thread.json["name"] == "average tip"
    posts = fake.of("POST", f"/channels/{message_id}/messages")
    assert len(posts) == 2  # 404 Unknown Channel, then into the new thread
    assert_valid_png(posts[-1].files[0][2])


async def test_progress_edits_original_or_shows_typing(
    fake: FakeDiscord, sender: DiscordSender
) -> None:
    await sender.progress(interaction_conv(fake), "job-1", "Reading tips.csv…")
    (edit,) = fake.of("PATCH", "/messages/@original")
    assert edit.json["content"] == "Reading tips.csv…"
    mention = ConversationRef(
        platform="discord",
        workspace_id="555",
        channel_id=CHANNEL,
        thread_id="901",
        data={"message_id": "901", "start_thread": True},
    )
    await sender.progress(mention, "job-2", "Analysing…")
    assert fake.of("POST", f"/channels/{CHANNEL}/typing")


# fetcher ---------------------------------------------------------------------------------


@pytest.fixture
async def fetcher() -> AsyncIterator[DiscordFetcher]:
    f = DiscordFetcher(max_bytes=1024, extra_hosts=frozenset({"127.0.0.1"}))
    yield f
    await f.aclose()


def ref(url: str, size: int, **extra: int) -> FileRef:
    return FileRef(id="1", name="tips.csv", size=size, download_url=url, extra=dict(extra))


async def test_fetch_downloads_attachment(fake: FakeDiscord, fetcher: DiscordFetcher) -> None:
    url = fake.host_file("tips.csv", b"day,tip\nSun,3\n")
    conv = interaction_conv(fake)
    assert await fetcher.fetch(ref(url, 14), conv) == b"day,tip\nSun,3\n"


async def test_fetch_refuses_oversize(fake: FakeDiscord, fetcher: DiscordFetcher) -> None:
    url = fake.host_file("big.csv", b"x" * 2000)
    with pytest.raises(FileTooLargeError):  # declared size over our limit: no download
        await fetcher.fetch(ref(url, 2000), interaction_conv(fake))
    with pytest.raises(FileTooLargeError):  # over the interaction's own limit
        await fetcher.fetch(ref(url, 600, size_limit=500), interaction_conv(fake))
    with pytest.raises(FileTooLargeError):  # understated size: the stream is capped
        await fetcher.fetch(ref(url, 10), interaction_conv(fake))
    assert len(fake.of("GET", "")) == 0


async def test_fetch_expired_link_asks_for_reupload(
    fake: FakeDiscord, fetcher: DiscordFetcher
) -> None:
    url = fake.host_file("old.csv", b"a\n", expired=True)
    with pytest.raises(InputError, match="upload it again"):
        await fetcher.fetch(ref(url, 2, expires_at=int(time.time()) - 1), interaction_conv(fake))
    with pytest.raises(InputError, match="upload it again"):  # the CDN says 404
        await fetcher.fetch(ref(url, 2), interaction_conv(fake))


async def test_fetch_only_from_discord_hosts(fake: FakeDiscord) -> None:
    strict = DiscordFetcher(max_bytes=1024)
    try:
        with pytest.raises(InputError):
            await strict.fetch(ref(fake.host_file("a.csv", b"a"), 1), interaction_conv(fake))
    finally:
        await strict.aclose()
