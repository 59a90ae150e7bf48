"""Socket Mode: apps.connections.open, hello, envelopes in, acks out — through bolt's
real AsyncSocketModeHandler against the fake's ws:// server."""

from __future__ import annotations

import asyncio
from typing import Any

import slack_payloads as payloads
from fake_slack import FakeSlack
from slack_harness import slack_settings

from core.events import Reply
from core.ports import Acceptance


async def test_events_arrive_over_the_socket_and_are_acked_after_accept(
    harness_factory: Any, fake_slack: FakeSlack
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    settings = slack_settings(
        fake_slack, slack_bot_token=team.bot_token, slack_app_token=fake_slack.app_token
    )
    h = await harness_factory(team=team, settings=settings)
    await h.adapter.start()
    (opened,) = fake_slack.calls_to("apps.connections.open")
    assert opened.token == fake_slack.app_token
    mention = payloads.app_mention(
        "T1", team.bot_user_id, channel="C1", ts="3.1", thread_ts="3.0", text="sum"
    )
    envelope_id = await fake_slack.send_envelope(mention)
    await fake_slack.wait_until(
        lambda: any(a.get("envelope_id") == envelope_id for a in fake_slack.socket_acks)
    )
    (inbound,) = h.intake.inbounds
    assert (inbound.workspace_id, inbound.thread_id, inbound.text) == ("T1", "3.0", "sum")
    # A redelivery (retry_attempt 1) is acked and deduplicated by the core.
    retry_id = await fake_slack.send_envelope(mention, retry_attempt=1)
    await fake_slack.wait_until(
        lambda: any(a.get("envelope_id") == retry_id for a in fake_slack.socket_acks)
    )
    assert [r.kind for r in h.intake.results] == ["enqueued", "duplicate"]


async def test_a_failed_accept_is_not_acked_so_slack_redelivers(
    harness_factory: Any, fake_slack: FakeSlack
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    settings = slack_settings(
        fake_slack, slack_bot_token=team.bot_token, slack_app_token=fake_slack.app_token
    )
    h = await harness_factory(team=team, settings=settings)
    await h.adapter.start()
    h.intake.fail = True
    failed = await fake_slack.send_envelope(
        payloads.app_mention("T1", team.bot_user_id, channel="C1", ts="4.1", text="q")
    )
    await fake_slack.wait_until(lambda: len(h.intake.inbounds) == 1)
    await asyncio.sleep(0.3)
    assert all(a.get("envelope_id") != failed for a in fake_slack.socket_acks)


async def test_slash_command_over_the_socket_answers_in_the_ack(
    harness_factory: Any, fake_slack: FakeSlack
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    settings = slack_settings(
        fake_slack, slack_bot_token=team.bot_token, slack_app_token=fake_slack.app_token
    )
    h = await harness_factory(team=team, settings=settings)
    h.intake.decide = lambda inbound: Acceptance(
        "replied",
        reply=Reply.from_text(
            inbound.conversation(), "Your role here: analyst.", idempotency_key="x"
        ),
    )
    await h.adapter.start()
    envelope_id = await fake_slack.send_envelope(
        payloads.slash_command("T1", text="role"), kind="slash_commands"
    )
    await fake_slack.wait_until(
        lambda: any(a.get("envelope_id") == envelope_id for a in fake_slack.socket_acks)
    )
    (ack,) = [a for a in fake_slack.socket_acks if a["envelope_id"] == envelope_id]
    assert (
        ack["payload"]["text"] == "Your role here: analyst."
        and ack["payload"]["response_type"] == "ephemeral"
    )


async def test_socket_mode_without_a_signing_secret_has_no_http_endpoint(
    harness_factory: Any, fake_slack: FakeSlack
) -> None:
    team = fake_slack.add_team("T1", channels=("C1",))
    settings = slack_settings(
        fake_slack,
        slack_bot_token=team.bot_token,
        slack_app_token=fake_slack.app_token,
        slack_signing_secret=None,
    )
    h = await harness_factory(team=team, settings=settings)
    await h.adapter.start()
    mention = payloads.app_mention("T1", team.bot_user_id, channel="C1", ts="5.1", text="hi")
    assert (await h.post_event(mention, secret="")).status == 404  # nothing to forge against
    envelope_id = await fake_slack.send_envelope(mention)
    await fake_slack.wait_until(
        lambda: any(a.get("envelope_id") == envelope_id for a in fake_slack.socket_acks)
    )
    assert len(h.intake.inbounds) == 1
