"""Slack payloads → Inbound: what the core receives for each kind of message."""

from __future__ import annotations

import slack_payloads as payloads

from adapters.slack.convert import (
    command_to_inbound,
    event_to_inbound,
    file_ref,
    message_intent,
    plain_text,
)

BOT = "UBOT1"


def test_app_mention_in_a_thread_replies_under_the_parent() -> None:
    body = payloads.app_mention(
        "T1",
        BOT,
        channel="C1",
        ts="1700.0002",
        thread_ts="1700.0001",
        text="  plot   revenue by month ",
        event_id="Ev1",
    )
    inbound = event_to_inbound(body, bot_user_id=BOT)
    assert (inbound.platform, inbound.workspace_id, inbound.workspace) == (
        "slack",
        "T1",
        "slack:T1",
    )
    assert (inbound.channel_id, inbound.thread_id, inbound.message_id) == (
        "C1",
        "1700.0001",
        "1700.0002",
    )
    assert inbound.event_id == "Ev1" and inbound.actor_id == "UALICE"
    assert inbound.text == "plot revenue by month"
    assert inbound.mentioned and not inbound.direct and inbound.command is None
    assert inbound.conversation().data == {"message_ts": "1700.0002"}
    # The core dedupes on both: retries (event id) and the app_mention/message pair (ts).
    assert inbound.dedupe_keys() == ["slack:T1:event:Ev1", "slack:T1:message:C1:1700.0002"]


def test_top_level_mention_starts_a_thread_under_itself() -> None:
    body = payloads.app_mention("T1", BOT, channel="C1", ts="1700.0009", text="hi")
    assert event_to_inbound(body, bot_user_id=BOT).thread_id == "1700.0009"


def test_file_share_becomes_platform_authenticated_file_refs() -> None:
    file = {
        "id": "F1",
        "name": "sales.csv",
        "mimetype": "text/csv",
        "size": 1234,
        "mode": "hosted",
        "filetype": "csv",
        "url_private": "https://files.slack.com/files-pri/T1-F1/sales.csv",
        "url_private_download": "https://files.slack.com/files-pri/T1-F1/download/sales.csv",
    }
    body = payloads.message(
        "T1", BOT, channel="C1", ts="2.0", thread_ts="1.0", files=[file], text=""
    )
    assert message_intent(body["event"], BOT) == "upload"
    inbound = event_to_inbound(body, bot_user_id=BOT)
    assert not inbound.addressed  # an upload without a mention is observed, not asked
    (ref,) = inbound.files
    assert ref.download_url == file["url_private_download"] and ref.auth == "platform"
    assert (ref.id, ref.name, ref.size, ref.mime) == ("F1", "sales.csv", 1234, "text/csv")


def test_files_slack_hides_or_hosts_elsewhere_have_no_download_url() -> None:
    hidden = {"id": "F2", "name": "old.csv", "mode": "hidden_by_limit"}
    external = {"id": "F3", "name": "gdrive", "is_external": True, "url_private": "https://x"}
    assert file_ref(hidden).download_url is None
    assert file_ref(external).download_url is None


def test_message_intents() -> None:
    def intent(**kwargs: object) -> str | None:
        base = {"channel": "C1", "ts": "2.0"}
        return message_intent(payloads.message("T1", BOT, **{**base, **kwargs})["event"], BOT)  # type: ignore[arg-type]

    assert intent(text="hello", channel_type="im") == "direct"
    assert intent(text=f"<@{BOT}> sum sales") == "mention"
    assert intent(text="thanks", thread_ts="1.0") == "thread"
    assert intent(text="<@UBOB> what do you think?", thread_ts="1.0") is None  # talk between people
    assert intent(text="just chatting") is None
    assert intent(text="from a bot", bot_id="B999") is None
    assert intent(text="bot", subtype="bot_message", user=None) is None
    assert intent(text="edited", subtype="message_changed") is None
    assert intent(text="joined", subtype="channel_join") is None


def test_plain_text_unwraps_slack_markup() -> None:
    text = f"<@{BOT}> compare <#C1|sales> &amp; <https://example.com|the site> for <@U2|bob> &lt;3"
    assert plain_text(text, BOT) == "compare #sales & the site for <@U2> <3"


def test_slash_command() -> None:
    fields = payloads.slash_command("T1", text="usage", channel="C7")
    inbound = command_to_inbound(fields)
    assert (inbound.command, inbound.text, inbound.channel_id, inbound.thread_id) == (
        "nexus",
        "usage",
        "C7",
        None,
    )
    assert inbound.event_id == inbound.message_id == fields["trigger_id"]
    assert inbound.addressed and inbound.actor_name == "alice"
