"""Signed Events API requests through the real bolt app and our aiohttp routes.

The intake here is a recording double of ``core.ports.Intake`` (our own boundary);
the end-to-end tests with the real conversation manager live in test_slack_e2e.py.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import slack_payloads as payloads
from slack_sdk.signature import SignatureVerifier

from core.events import Reply
from core.ports import Acceptance

DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class FixedClock:
    def __init__(self, now: float) -> None:
        self.now_value = now

    def now(self) -> float:
        return self.now_value


def test_slacks_documented_signature_example_verifies() -> None:
    verifier = SignatureVerifier(DOC_SECRET, clock=FixedClock(int(DOC_TIMESTAMP) + 10))  # type: ignore[arg-type]
    assert verifier.generate_signature(timestamp=DOC_TIMESTAMP, body=DOC_BODY) == DOC_SIGNATURE
    assert verifier.is_valid(DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE)
    assert not verifier.is_valid(
        DOC_BODY.replace("roadrunner", "coyote"), DOC_TIMESTAMP, DOC_SIGNATURE
    )
    late = SignatureVerifier(DOC_SECRET, clock=FixedClock(int(DOC_TIMESTAMP) + 301))  # type: ignore[arg-type]
    assert not late.is_valid(DOC_BODY, DOC_TIMESTAMP, DOC_SIGNATURE)


async def test_forged_or_stale_requests_are_rejected_and_nothing_is_accepted(
    harness_factory: Any,
) -> None:
    h = await harness_factory()
    payload = payloads.app_mention(
        "T1", h.team.bot_user_id, channel="C1", ts="1.1", text="sum sales"
    )
    body, headers = payloads.signed_json(payload)
    tampered = body.replace("sum sales", "drop tables")
    async with h.session.post(f"{h.url}/slack/events", data=tampered, headers=headers) as resp:
        assert resp.status == 401
    stale = await h.post_event(payload, timestamp=int(time.time()) - 301)
    assert stale.status == 401
    wrong_secret = await h.post_event(payload, secret="not-the-secret")
    assert wrong_secret.status == 401
    assert h.intake.inbounds == []
    ok = await h.post_event(payload)
    assert ok.status == 200 and len(h.intake.inbounds) == 1


async def test_url_verification_is_answered_by_bolt(harness_factory: Any) -> None:
    h = await harness_factory()
    body, headers = payloads.signed_json(
        {"token": "x", "challenge": "c-123", "type": "url_verification"}
    )
    async with h.session.post(f"{h.url}/slack/events", data=body, headers=headers) as resp:
        assert resp.status == 200 and (await resp.json()) == {"challenge": "c-123"}


async def test_retries_and_the_mention_message_twin_yield_one_job(harness_factory: Any) -> None:
    h = await harness_factory()
    bot = h.team.bot_user_id
    mention = payloads.app_mention(
        "T1", bot, channel="C1", ts="5.5", thread_ts="5.0", text="top 3", event_id="EvA"
    )
    twin = payloads.message(
        "T1", bot, channel="C1", ts="5.5", thread_ts="5.0", text=f"<@{bot}> top 3", event_id="EvB"
    )
    assert (await h.post_event(mention)).status == 200
    retry = await h.post_event(
        mention, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status == 200
    assert (await h.post_event(twin)).status == 200
    await h.adapter.listeners.drain()
    assert [r.kind for r in h.intake.results] == ["enqueued", "duplicate", "duplicate"]
    # One "working" reaction on the asker's message, added after the ack.
    assert h.fake.reactions == {("C1", "5.5", "eyes")}


async def test_failed_accept_answers_500_so_slack_retries(harness_factory: Any) -> None:
    h = await harness_factory()
    payload = payloads.app_mention("T1", h.team.bot_user_id, channel="C1", ts="6.6", text="sum")
    h.intake.fail = True
    assert (await h.post_event(payload)).status == 500
    h.intake.fail = False
    assert (await h.post_event(payload, headers={"X-Slack-Retry-Num": "1"})).status == 200
    assert [r.kind for r in h.intake.results] == ["ignored", "enqueued"]  # first raised


async def test_slow_accept_fails_the_ack_in_time_but_its_work_completes(
    harness_factory: Any,
) -> None:
    class SlowIntake:
        def __init__(self) -> None:
            self.done = asyncio.Event()

        async def accept(self, inbound: Any) -> Acceptance:
            await asyncio.sleep(0.6)
            self.done.set()
            return Acceptance("enqueued", job_id="j")

    intake = SlowIntake()
    h = await harness_factory(intake)
    h.adapter.listeners._timeout = 0.2
    started = time.perf_counter()
    resp = await h.post_event(
        payloads.app_mention("T1", h.team.bot_user_id, channel="C1", ts="7.7", text="q")
    )
    assert resp.status == 500 and time.perf_counter() - started < 0.55
    await intake.done.wait()
    await h.fake.wait_until(lambda: ("C1", "7.7", "eyes") in h.fake.reactions)


async def test_own_and_other_bots_messages_are_ignored(harness_factory: Any) -> None:
    h = await harness_factory()
    bot = h.team.bot_user_id
    own = payloads.message(
        "T1", bot, channel="C1", ts="8.1", text="answer", user=bot, bot_id=h.team.bot_id
    )
    other = payloads.message(
        "T1", bot, channel="C1", ts="8.2", text=f"<@{bot}> hi", user="UOTHER", bot_id="B999"
    )
    broadcast = payloads.message(
        "T1", bot, channel="C1", ts="8.3", text="hi", user=None, subtype="bot_message", bot_id="B9"
    )
    for payload in (own, other, broadcast):
        assert (await h.post_event(payload)).status == 200
    assert h.intake.inbounds == []


async def test_thread_follow_ups_need_no_mention_once_nexus_answers(harness_factory: Any) -> None:
    h = await harness_factory()
    bot = h.team.bot_user_id
    before = payloads.message("T1", bot, channel="C1", ts="9.1", thread_ts="9.0", text="anyone?")
    assert (await h.post_event(before)).status == 200
    assert h.intake.inbounds == []  # not Nexus's thread (yet)
    await h.post_event(
        payloads.app_mention("T1", bot, channel="C1", ts="9.2", thread_ts="9.0", text="sum sales")
    )
    await h.adapter.listeners.drain()
    await h.post_event(
        payloads.message("T1", bot, channel="C1", ts="9.3", thread_ts="9.0", text="and by region?")
    )
    await h.post_event(
        payloads.message("T1", bot, channel="C1", ts="9.4", thread_ts="9.0", text="<@UBOB> agree?")
    )
    await h.post_event(
        payloads.message("T1", bot, channel="C2", ts="9.5", thread_ts="9.0", text="other channel")
    )
    follow_up = h.intake.inbounds[-1]
    assert [i.message_id for i in h.intake.inbounds] == ["9.2", "9.3"]
    assert (
        follow_up.mentioned and follow_up.thread_id == "9.0" and follow_up.text == "and by region?"
    )


async def test_an_upload_without_a_mention_waits_for_the_next_question_in_its_thread(
    harness_factory: Any,
) -> None:
    h = await harness_factory()
    bot = h.team.bot_user_id
    file = h.fake.add_file(h.team, "sales.csv", b"region,amount\nnorth,3\n")
    upload = payloads.message("T1", bot, channel="C1", ts="10.1", thread_ts="10.0", files=[file])
    assert (await h.post_event(upload)).status == 200
    assert h.intake.inbounds == []  # not addressed: the core would ignore it
    refused = {"first": True}

    def decide(inbound: Any) -> Acceptance:
        if refused.pop("first", False):  # e.g. a viewer asked first
            return Acceptance(
                "replied", reply=Reply.from_text(inbound.conversation(), "no", idempotency_key="r")
            )
        return Acceptance("enqueued", job_id="j")

    h.intake.decide = decide
    await h.post_event(
        payloads.app_mention("T1", bot, channel="C1", ts="10.2", thread_ts="10.0", text="total?")
    )
    await h.adapter.listeners.drain()
    await h.post_event(
        payloads.app_mention("T1", bot, channel="C1", ts="10.3", thread_ts="10.0", text="total?")
    )
    await h.post_event(
        payloads.app_mention("T1", bot, channel="C1", ts="10.4", thread_ts="10.0", text="again")
    )
    first, second, third = h.intake.inbounds
    # The refused question gave the file back; the next one took it, once.
    assert [f.download_url for f in first.files] == [file["url_private_download"]]
    assert [f.id for f in second.files] == [file["id"]] and second.addressed
    assert third.files == []


async def test_an_upload_in_an_answered_thread_is_a_follow_up(harness_factory: Any) -> None:
    h = await harness_factory()
    bot = h.team.bot_user_id
    await h.post_event(
        payloads.app_mention("T1", bot, channel="C1", ts="12.1", thread_ts="12.0", text="hi")
    )
    await h.adapter.listeners.drain()
    file = h.fake.add_file(h.team, "more.csv", b"a\n1\n")
    await h.post_event(
        payloads.message("T1", bot, channel="C1", ts="12.2", thread_ts="12.0", files=[file])
    )
    follow_up = h.intake.inbounds[-1]
    assert follow_up.addressed and [f.id for f in follow_up.files] == [file["id"]]


async def test_an_immediate_reply_is_posted_in_the_thread_after_the_ack(
    harness_factory: Any,
) -> None:
    h = await harness_factory()
    h.intake.decide = lambda inbound: Acceptance(
        "replied",
        reply=Reply.from_text(
            inbound.conversation(), "You have used 3 of 50 questions today.", idempotency_key="r1"
        ),
    )
    await h.post_event(
        payloads.app_mention(
            "T1", h.team.bot_user_id, channel="C1", ts="11.1", thread_ts="11.0", text="usage"
        )
    )
    await h.adapter.listeners.drain()
    (posted,) = h.fake.thread("C1", "11.0")
    assert "3 of 50" in posted["blocks"][0]["text"]["text"]


async def test_slash_command_is_answered_ephemerally_in_the_ack(harness_factory: Any) -> None:
    h = await harness_factory()
    h.intake.decide = lambda inbound: Acceptance(
        "replied",
        reply=Reply.from_text(
            inbound.conversation(), f"help for {inbound.text}", idempotency_key="c1"
        ),
    )
    status, body = await h.post_command(payloads.slash_command("T1", text="help"))
    assert status == 200
    assert body["response_type"] == "ephemeral" and body["text"] == "help for help"
    (inbound,) = h.intake.inbounds
    assert inbound.command == "nexus" and inbound.text == "help"
    h.intake.fail = True
    status, body = await h.post_command(payloads.slash_command("T1", text="usage"))
    assert status == 200 and "try again" in body["text"]


async def test_events_nexus_does_not_handle_are_still_acked(harness_factory: Any) -> None:
    h = await harness_factory()
    event = {"type": "reaction_added", "user": "UALICE", "reaction": "tada", "event_ts": "1.1"}
    resp = await h.post_event(payloads.envelope("T1", h.team.bot_user_id, event))
    assert resp.status == 200 and h.intake.inbounds == []
