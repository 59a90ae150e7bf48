"""The real discord.py gateway client against the fake Discord (REST + gateway).

Proves: login and command sync over REST, the gateway handshake (HELLO, IDENTIFY →
READY), slash commands deferred (type 5) before ``accept`` and converted with their
attachment, a redelivered interaction acked once, @mentions and replies in threads
Nexus started turned into Inbounds, other chatter ignored, and a failing intake
answered with an apology rather than silence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from discord_helpers import RecordingIntake, ask_payload
from fake_discord import FakeDiscord, snowflake

from adapters.discord.gateway import APOLOGY, NexusGateway
from adapters.discord.io import DiscordSender

GUILD = "555555555555555555"
CHANNEL = "444444444444444444"
THREAD = "777000000000000001"


def guild_payload(fake: FakeDiscord) -> dict[str, Any]:
    meta = {
        "archived": False,
        "auto_archive_duration": 1440,
        "locked": False,
        "archive_timestamp": "2025-01-01T00:00:00+00:00",
    }
    return {
        "id": GUILD,
        "name": "Data team",
        "owner_id": "1",
        "unavailable": False,
        "member_count": 2,
        "roles": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "members": [],
        "voice_states": [],
        "presences": [],
        "large": False,
        "channels": [
            {
                "id": CHANNEL,
                "type": 0,
                "name": "data",
                "position": 0,
                "guild_id": GUILD,
                "permission_overwrites": [],
            }
        ],
        "threads": [
            {
                "id": THREAD,
                "type": 11,
                "guild_id": GUILD,
                "parent_id": CHANNEL,
                "owner_id": fake.bot_user_id,
                "name": "average tip",
                "flags": 0,
                "thread_metadata": meta,
                "message_count": 1,
                "member_count": 1,
            }
        ],
    }


def message_payload(
    fake: FakeDiscord,
    *,
    channel_id: str,
    content: str,
    mentions: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    guild: bool = True,
) -> dict[str, Any]:
    author = {
        "id": "999",
        "username": "ana",
        "global_name": "Ana",
        "discriminator": "0",
        "avatar": None,
    }
    payload = {
        "id": snowflake(seq=50 + len(content)),
        "channel_id": channel_id,
        "type": 0,
        "author": author,
        "content": content,
        "timestamp": "2025-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": [],
        "pinned": False,
        "flags": 0,
        "components": [],
    }
    if guild:
        payload["guild_id"] = GUILD
        payload["member"] = {
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
    return payload


@pytest.fixture
async def gateway(fake: FakeDiscord, intake: RecordingIntake) -> AsyncIterator[NexusGateway]:
    fake.guilds.append(guild_payload(fake))
    sender = DiscordSender(bot_token=fake.bot_token)
    client = NexusGateway(intake=intake, sender=sender, guild_ready_timeout=0.1)
    task = asyncio.create_task(client.start(fake.bot_token))
    await asyncio.wait_for(client.wait_until_ready(), 10)
    try:
        yield client
    finally:
        await client.close()
        await sender.aclose()
        await asyncio.wait_for(task, 10)


async def test_login_syncs_commands_and_identifies(
    fake: FakeDiscord, gateway: NexusGateway
) -> None:
    assert fake.of("GET", "/users/@me") and fake.of("GET", "/gateway/bot")
    (sync,) = fake.of("PUT", f"/applications/{fake.application_id}/commands")
    names = {c["name"] for c in sync.json}
    assert names == {"ask", "upload", "nexus"}
    nexus = next(c for c in sync.json if c["name"] == "nexus")
    assert {o["name"] for o in nexus["options"]} == {
        "help",
        "datasets",
        "usage",
        "quota",
        "role",
        "forget",
        "stop",
    }


async def test_commands_sync_to_one_guild_when_configured(
    fake: FakeDiscord, intake: RecordingIntake
) -> None:
    sender = DiscordSender(bot_token=fake.bot_token)
    client = NexusGateway(intake=intake, sender=sender, command_guild_id=int(GUILD))
    try:
        await client.login(fake.bot_token)  # runs setup_hook, which syncs
    finally:
        await client.close()
        await sender.aclose()
    (sync,) = fake.of("PUT", "/commands")
    assert sync.path == f"/applications/{fake.application_id}/guilds/{GUILD}/commands"


async def test_slash_command_is_deferred_then_accepted(
    fake: FakeDiscord, gateway: NexusGateway, intake: RecordingIntake
) -> None:
    url = fake.host_file("tips.csv", b"day,tip\nSun,3\n")
    payload = ask_payload(fake, file_url=url)
    intake.probe = lambda: dict(fake.callbacks)
    await fake.dispatch("INTERACTION_CREATE", payload)
    await asyncio.wait_for(intake.arrived.wait(), 10)

    assert fake.callbacks[payload["id"]] == [{"type": 5}]
    (inbound,) = intake.inbounds
    assert inbound.command == "ask" and inbound.text == "average tip by day"
    assert inbound.workspace_id == GUILD and inbound.channel_id == CHANNEL
    assert inbound.event_id == inbound.message_id == payload["id"]
    (ref,) = inbound.files
    assert ref.name == "tips.csv" and ref.download_url == url
    assert ref.extra["size_limit"] == 10_485_760
    assert inbound.conversation_data["interaction_token"] == "INTERACTION_TOKEN"
    # The defer had reached Discord before the core saw the command.
    assert intake.probes == [{payload["id"]: [{"type": 5}]}]


async def test_redelivered_interaction_is_acked_once(
    fake: FakeDiscord, gateway: NexusGateway, intake: RecordingIntake
) -> None:
    payload = ask_payload(fake)
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.dispatch("INTERACTION_CREATE", payload)
    await fake.wait_for(lambda: len(intake.inbounds) == 2)

    assert len(fake.of("POST", "/callback")) == 2  # the second got 40060
    assert fake.callbacks[payload["id"]] == [{"type": 5}]
    assert [i.event_id for i in intake.inbounds] == [payload["id"]] * 2
    await asyncio.sleep(0.1)
    assert not fake.of("PATCH", "/webhooks/") and not fake.of("POST", "/channels/")


async def test_nexus_role_subcommand_becomes_command_text(
    fake: FakeDiscord, gateway: NexusGateway, intake: RecordingIntake
) -> None:
    payload = ask_payload(fake)
    payload["data"] = {
        "id": "1",
        "name": "nexus",
        "type": 1,
        "options": [
            {
                "name": "role",
                "type": 1,
                "options": [
                    {"name": "user", "type": 6, "value": "4242"},
                    {"name": "role", "type": 3, "value": "analyst"},
                ],
            }
        ],
        "resolved": {
            "users": {
                "4242": {"id": "4242", "username": "bob", "discriminator": "0", "avatar": None}
            }
        },
    }
    await fake.dispatch("INTERACTION_CREATE", payload)
    await asyncio.wait_for(intake.arrived.wait(), 10)
    (inbound,) = intake.inbounds
    assert inbound.command == "nexus" and inbound.text == "role <@4242> analyst"


async def test_mention_and_bot_thread_replies_are_addressed(
    fake: FakeDiscord, gateway: NexusGateway, intake: RecordingIntake
) -> None:
    bot = fake.user()
    await fake.dispatch(
        "MESSAGE_CREATE", message_payload(fake, channel_id=CHANNEL, content="just chatting")
    )
    await fake.dispatch(
        "MESSAGE_CREATE",
        message_payload(
            fake,
            channel_id=CHANNEL,
            content=f"<@{bot['id']}> what is the average tip?",
            mentions=[bot],
        ),
    )
    url = fake.host_file("more.csv", b"a\n1\n")
    await fake.dispatch(
        "MESSAGE_CREATE",
        message_payload(
            fake,
            channel_id=THREAD,
            content="and by day?",
            attachments=[
                {"id": "31", "filename": "more.csv", "size": 4, "url": url, "proxy_url": url}
            ],
        ),
    )
    await fake.wait_for(lambda: len(intake.inbounds) == 2)

    mention, reply = intake.inbounds
    assert mention.text == "what is the average tip?" and mention.mentioned
    assert mention.channel_id == CHANNEL and mention.thread_id == mention.message_id
    assert mention.conversation_data["start_thread"] is True
    assert reply.channel_id == CHANNEL and reply.thread_id == THREAD
    assert reply.text == "and by day?" and reply.files[0].name == "more.csv"


async def test_failed_accept_is_answered_with_an_apology(
    fake: FakeDiscord, gateway: NexusGateway, intake: RecordingIntake
) -> None:
    intake.error = RuntimeError("redis down")
    payload = ask_payload(fake)
    await fake.dispatch("INTERACTION_CREATE", payload)
    (edit,) = await fake.wait_for(lambda: fake.of("PATCH", "/messages/@original"))
    assert edit.path == f"/webhooks/{fake.application_id}/INTERACTION_TOKEN/messages/@original"
    assert APOLOGY in edit.json["embeds"][0]["description"]
