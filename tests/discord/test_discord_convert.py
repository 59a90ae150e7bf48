"""Pure conversion of Discord payloads into Inbound (no network).

Proves: the exact INTERACTION_CREATE from platforms.md §2.2 (a DM with an ephemeral
attachment) becomes a DM-scoped command with a signed-URL FileRef, its upload limit
and link expiry; guild interactions use the guild as workspace and the member's user;
interactions in a thread keep the parent channel; the token expiry comes from the
interaction id; /nexus subcommands become the text the core parses; messages are
addressed only when mentioned, direct or in Nexus's own thread.
"""

from __future__ import annotations

from discord_helpers import ask_payload
from fake_discord import FakeDiscord, snowflake

from adapters.discord.convert import (
    TOKEN_LIFETIME_SECONDS,
    MessageFacts,
    interaction_to_inbound,
    message_to_inbound,
    snowflake_seconds,
    thread_name,
)
from core.commands import parse_command

REFERENCE_PAYLOAD = {
    "id": "777777777777777777",
    "application_id": "111111111111111111",
    "type": 2,
    "token": "INTERACTION_TOKEN",
    "version": 1,
    "channel_id": "444444444444444444",
    "channel": {"id": "444444444444444444", "type": 1},
    "locale": "en-US",
    "app_permissions": "0",
    "entitlements": [],
    "authorizing_integration_owners": {"1": "999"},
    "context": 1,
    "attachment_size_limit": 10485760,
    "user": {"id": "999", "username": "u", "discriminator": "0", "avatar": None},
    "data": {
        "id": "888888888888888888",
        "name": "analyze",
        "type": 1,
        "options": [{"name": "file", "type": 11, "value": "666666666666666666"}],
        "resolved": {
            "attachments": {
                "666666666666666666": {
                    "id": "666666666666666666",
                    "filename": "data.csv",
                    "size": 1234,
                    "content_type": "text/csv; charset=utf-8",
                    "ephemeral": True,
                    "url": "https://cdn.discordapp.com/ephemeral-attachments/444/666/data.csv"
                    "?ex=65d903de&is=65c68ede&hm=abc&",
                    "proxy_url": "https://media.discordapp.net/ephemeral-attachments/444/666/data.csv",
                }
            }
        },
    },
}


def test_reference_interaction_becomes_a_dm_command_with_a_file() -> None:
    inbound = interaction_to_inbound(REFERENCE_PAYLOAD)
    assert inbound.platform == "discord" and inbound.workspace_id == "dm:999"
    assert inbound.workspace == "discord:dm:999"
    assert inbound.direct and inbound.addressed and inbound.command == "analyze"
    assert inbound.event_id == inbound.message_id == "777777777777777777"
    assert inbound.actor_id == "999" and inbound.actor_name == "u" and inbound.text == ""
    (ref,) = inbound.files
    assert ref.name == "data.csv" and ref.size == 1234 and ref.mime == "text/csv; charset=utf-8"
    assert ref.download_url is not None and "hm=abc" in ref.download_url and ref.auth == "none"
    assert ref.extra == {"ephemeral": True, "size_limit": 10485760, "expires_at": 0x65D903DE}
    data = inbound.conversation().data
    assert data["application_id"] == "111111111111111111"
    assert data["interaction_token"] == "INTERACTION_TOKEN"
    assert data["token_expires_at"] == snowflake_seconds("777777777777777777") + 900
    assert "bot" not in str(data).lower()  # the bot token never travels with a job


def test_guild_interaction_uses_guild_and_member() -> None:
    fake = FakeDiscord()
    inbound = interaction_to_inbound(ask_payload(fake, question="sum of tip by sex"))
    assert inbound.workspace_id == "555555555555555555" and not inbound.direct
    assert inbound.actor_id == "999" and inbound.actor_name == "Ana"
    assert inbound.channel_id == "444444444444444444" and inbound.thread_id is None
    assert inbound.command == "ask" and inbound.text == "sum of tip by sex"
    assert parse_command(inbound.text, inbound.command) is None  # a question, not a command


def test_interaction_in_a_thread_keeps_the_parent_channel() -> None:
    fake = FakeDiscord()
    thread = {"id": "123", "type": 11, "parent_id": "444444444444444444", "name": "t"}
    payload = ask_payload(fake, channel=thread)
    payload["channel_id"] = "123"
    inbound = interaction_to_inbound(payload)
    assert (inbound.channel_id, inbound.thread_id) == ("444444444444444444", "123")


def test_token_expiry_follows_the_interaction_time() -> None:
    interaction_id = snowflake(1_700_000_000.0)
    payload = {**REFERENCE_PAYLOAD, "id": interaction_id}
    data = interaction_to_inbound(payload).conversation_data
    assert data["token_expires_at"] == 1_700_000_000.0 + TOKEN_LIFETIME_SECONDS


def test_nexus_subcommands_become_parsable_text() -> None:
    def nexus(*options: dict[str, object]) -> str:
        payload = {
            **REFERENCE_PAYLOAD,
            "data": {
                "name": "nexus",
                "type": 1,
                "options": [{"name": options[0]["name"], "type": 1, "options": list(options[1:])}],
            },
        }
        inbound = interaction_to_inbound(payload)
        assert inbound.command == "nexus"
        return inbound.text

    assert nexus({"name": "datasets"}) == "datasets"
    role = nexus(
        {"name": "role"},
        {"name": "user", "type": 6, "value": "42"},
        {"name": "role", "type": 3, "value": "admin"},
    )
    assert role == "role <@42> admin"
    parsed = parse_command(role, "nexus")
    assert parsed is not None and (parsed.name, parsed.args) == ("role", ["<@42>", "admin"])


def facts(**overrides: object) -> MessageFacts:
    base: dict[str, object] = {
        "message_id": "900",
        "channel_id": "444",
        "guild_id": "555",
        "author_id": "999",
        "author_name": "Ana",
        "content": "<@1> average tip by day",
        "bot_id": "1",
        "mentions_bot": True,
    }
    return MessageFacts(**{**base, **overrides})  # type: ignore[arg-type]


def test_mention_in_a_channel_opens_a_thread_on_the_message() -> None:
    inbound = message_to_inbound(facts())
    assert inbound is not None and inbound.text == "average tip by day" and inbound.mentioned
    assert (inbound.channel_id, inbound.thread_id) == ("444", "900")
    assert inbound.conversation_data == {
        "message_id": "900",
        "start_thread": True,
        "thread_name": "average tip by day",
    }


def test_reply_in_nexus_thread_is_addressed_but_chatter_is_not() -> None:
    in_thread = facts(
        channel_id="700",
        content="and by sex?",
        mentions_bot=False,
        thread_parent_id="444",
        thread_owner_id="1",
        attachments=(
            {
                "id": "5",
                "filename": "b.csv",
                "size": 3,
                "url": "https://cdn.discordapp.com/a/b.csv",
            },
        ),
    )
    inbound = message_to_inbound(in_thread)
    assert inbound is not None and inbound.addressed
    assert (inbound.channel_id, inbound.thread_id) == ("444", "700")
    assert inbound.files[0].name == "b.csv" and "start_thread" not in inbound.conversation_data
    assert message_to_inbound(facts(mentions_bot=False, content="lunch?")) is None
    others = facts(mentions_bot=False, thread_parent_id="444", thread_owner_id="2")
    assert message_to_inbound(others) is None


def test_direct_message_gets_its_own_workspace() -> None:
    inbound = message_to_inbound(facts(guild_id=None, mentions_bot=False, content="hi"))
    assert inbound is not None and inbound.direct and inbound.workspace_id == "dm:999"
    assert inbound.thread_id is None and inbound.conversation_data == {"message_id": "900"}


def test_thread_names_are_short_single_lines() -> None:
    assert thread_name("") == "Nexus"
    assert thread_name("first line\nsecond") == "first line"
    assert len(thread_name("x" * 500)) == 100
