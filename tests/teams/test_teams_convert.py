"""Activity JSON → Inbound: scopes, mentions, threads, files and what Teams withholds."""

from __future__ import annotations

import teams_activities as activities

from adapters.teams.convert import activity_to_message, clean_text, split_conversation

SERVICE = "https://smba.trafficmanager.net/amer/"


def test_personal_chat_is_direct_and_the_tenant_is_the_workspace() -> None:
    activity = activities.message(SERVICE, text="average tip by day")
    inbound = activity_to_message(activity).inbound
    assert inbound is not None
    assert inbound.direct and not inbound.mentioned
    assert inbound.workspace == f"teams:{activities.TENANT}"
    assert inbound.channel_id == activity["conversation"]["id"] and inbound.thread_id is None
    assert inbound.actor_id == activities.USER["aadObjectId"]
    assert inbound.text == "average tip by day"
    assert inbound.conversation_data["service_url"] == SERVICE


def test_channel_thread_splits_into_channel_and_root_and_strips_the_mention() -> None:
    thread = activities.channel_thread(root="1481567603816")
    activity = activities.message(
        SERVICE, kind="channel", mention=True, conversation_id=thread, text="plot  this"
    )
    inbound = activity_to_message(activity).inbound
    assert inbound is not None and inbound.mentioned and not inbound.direct
    assert inbound.channel_id == thread.split(";")[0]
    assert inbound.thread_id == "1481567603816"
    assert inbound.text == "plot this"
    assert inbound.conversation_data["conversation_id"] == thread


def test_unaddressed_group_message_and_non_messages_are_ignored() -> None:
    group = activities.message(SERVICE, kind="groupChat", text="hello all")
    assert activity_to_message(group).inbound is None
    update = {**activities.message(SERVICE), "type": "conversationUpdate"}
    assert activity_to_message(update).inbound is None


def test_dedupe_keys_are_per_conversation_and_activity() -> None:
    first = activities.message(SERVICE, text="q", message_id="42")
    other_chat = activities.message(SERVICE, text="q", message_id="42")
    a, b = activity_to_message(first).inbound, activity_to_message(other_chat).inbound
    assert a is not None and b is not None
    # Same activity id in two conversations: two different events.
    assert set(a.dedupe_keys()).isdisjoint(b.dedupe_keys())
    again = activity_to_message(first).inbound
    assert again is not None and again.dedupe_keys() == a.dedupe_keys()


def test_other_people_mentioned_keep_their_names() -> None:
    activity = activities.message(SERVICE, kind="channel", mention=True, text="ask <at>Bob</at>")
    assert clean_text(activity) == "ask Bob"


def test_personal_file_and_inline_image_become_file_refs() -> None:
    activity = activities.message(
        SERVICE,
        attachments=[
            {"contentType": "text/html", "content": "<p>here</p>"},
            activities.file_attachment("sales.xlsx", "https://download.example/abc"),
            activities.inline_image(f"{SERVICE}v3/attachments/x/views/original"),
        ],
    )
    message = activity_to_message(activity)
    assert message.inbound is not None and message.withheld_files == []
    document, image = message.inbound.files
    assert (document.name, document.download_url, document.auth) == (
        "sales.xlsx",
        "https://download.example/abc",
        "none",
    )
    assert document.extra == {"file_type": "xlsx"}
    assert image.auth == "platform" and image.mime == "image/png"
    assert image.download_url == f"{SERVICE}v3/attachments/x/views/original"


def test_files_attached_in_a_channel_are_reported_as_withheld() -> None:
    activity = activities.message(
        SERVICE,
        kind="channel",
        mention=True,
        text="what is the total",
        attachments=activities.channel_file_trace("q3.csv"),
    )
    message = activity_to_message(activity)
    assert message.inbound is not None and message.inbound.files == []
    assert message.withheld_files == ["q3.csv"]


def test_split_conversation_without_a_thread() -> None:
    assert split_conversation("a:1abc") == ("a:1abc", None)
    assert split_conversation("19:x@thread.tacv2;messageid=7") == ("19:x@thread.tacv2", "7")
