"""The inbound turn on the real app (``nexus serve`` wiring, no worker): what is
enqueued, what is answered at once, what is stored, and when the ack fails."""

from __future__ import annotations

import socket

import teams_activities as activities
from fake_bot_framework import FakeChannelAuth, FakeConnector
from teams_harness import StartNexus

from core.storage.repositories import installations


async def test_a_file_attached_in_a_channel_gets_instructions_not_silence(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    nexus = await start_nexus()
    message = activities.message(
        connector.service_url,
        kind="channel",
        mention=True,
        text="total revenue by region",
        attachments=activities.channel_file_trace("q3.csv"),
    )
    assert await nexus.post(message, channel_auth.header(connector.service_url)) == 201
    (hint,) = connector.posted  # posted within the turn, before the ack
    assert hint.conversation_id == message["conversation"]["id"]
    assert hint.reply_to == message["id"]
    assert "q3.csv" in hint.body["text"] and "personal chat" in hint.body["text"]
    assert await nexus.queued_jobs() == 0


async def test_group_chatter_without_a_mention_is_ignored(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    nexus = await start_nexus()
    chatter = activities.message(connector.service_url, kind="groupChat", text="lunch?")
    assert await nexus.post(chatter, channel_auth.header(connector.service_url)) == 201
    assert await nexus.queued_jobs() == 0
    assert connector.posted == []


async def test_a_command_is_answered_in_the_turn(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    nexus = await start_nexus()
    command = activities.message(connector.service_url, text="help")
    assert await nexus.post(command, channel_auth.header(connector.service_url)) == 201
    (answer,) = connector.posted
    assert answer.type == "message" and answer.reply_to == command["id"]
    assert "datasets" in answer.body["text"]  # the help text lists the commands
    assert await nexus.queued_jobs() == 0


async def test_the_reference_is_stored_with_the_tenant_and_service_url(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    nexus = await start_nexus()
    thread = activities.channel_thread()
    question = activities.message(
        connector.service_url, kind="channel", mention=True, conversation_id=thread, text="rows?"
    )
    assert await nexus.post(question, channel_auth.header(connector.service_url)) == 201
    async with nexus.runtime.database.session() as session:
        row = await installations.get_reference(session, f"teams:{activities.TENANT}", thread)
    assert row is not None and row.platform == "teams"
    assert row.data["serviceUrl"] == connector.service_url
    assert row.data["conversation"]["id"] == thread
    assert row.data["activityId"] == question["id"]
    assert await nexus.queued_jobs() == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_the_ack_fails_when_nothing_can_be_enqueued(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    """Redis is down: a 500, so the Bot Framework delivers the activity again later."""
    nexus = await start_nexus(redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    question = activities.message(connector.service_url, text="how many rows are there")
    assert await nexus.post(question, channel_auth.header(connector.service_url)) == 500
    assert connector.posted == []  # no typing indicator for work that was not queued
