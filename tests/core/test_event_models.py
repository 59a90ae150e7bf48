"""Inbound and Reply are JSON-safe, strict, and survive a JSON round trip unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from core.events import (
    Citation,
    CitationsSegment,
    ConversationRef,
    FileRef,
    FileSegment,
    ImageSegment,
    Inbound,
    ReceiptSegment,
    Reply,
    Segment,
    TableSegment,
    TextSegment,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _inbound(**overrides: object) -> Inbound:
    fields: dict[str, object] = {
        "platform": "slack",
        "workspace_id": "T111",
        "channel_id": "C1",
        "thread_id": "1652227646.593159",
        "message_id": "1652227646.600000",
        "event_id": "Ev03EGJQAVMM",
        "actor_id": "U1",
        "text": "<@UBOT> average tip by day",
        "files": [
            FileRef(
                id="F111",
                name="tips.csv",
                size=7943,
                mime="text/csv",
                download_url="https://files.slack.com/files-pri/T111-F111/download/tips.csv",
                auth="platform",
            )
        ],
        "mentioned": True,
        "received_at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "conversation_data": {"team": "T111"},
    }
    fields.update(overrides)
    return Inbound.model_validate(fields)


def test_inbound_round_trips_through_json() -> None:
    event = _inbound()
    wire = json.dumps(event.model_dump(mode="json"))
    assert Inbound.model_validate_json(wire) == event
    assert event.workspace == "slack:T111"
    assert event.addressed


def test_dedupe_keys_cover_event_id_and_channel_message() -> None:
    mention = _inbound(event_id="Ev1")
    message = _inbound(event_id="Ev2")  # Slack's `message` twin of the app_mention
    event_key, message_key = mention.dedupe_keys()
    assert event_key == "slack:T111:event:Ev1"
    assert message_key == "slack:T111:message:C1:1652227646.600000"
    # Different event ids, same (channel, ts): they share the message key.
    assert set(mention.dedupe_keys()) & set(message.dedupe_keys()) == {message_key}
    # Keys are workspace-prefixed: the same ids in another workspace never collide.
    other = _inbound(workspace_id="T222", event_id="Ev1")
    assert not set(other.dedupe_keys()) & set(mention.dedupe_keys())


def test_received_at_must_be_aware_and_becomes_utc() -> None:
    with pytest.raises(ValidationError):
        _inbound(received_at=datetime(2025, 1, 2, 3, 4, 5))
    local = datetime(2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert _inbound(received_at=local).received_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_unknown_fields_and_platforms_are_rejected() -> None:
    with pytest.raises(ValidationError):
        _inbound(platform="irc")
    with pytest.raises(ValidationError):
        _inbound(slack_client=object())


def test_conversation_ref_is_built_from_inbound() -> None:
    ref = _inbound().conversation()
    assert ref == ConversationRef(
        platform="slack",
        workspace_id="T111",
        channel_id="C1",
        thread_id="1652227646.593159",
        data={"team": "T111"},
    )
    assert ref.workspace == "slack:T111"


def _full_reply() -> Reply:
    return Reply(
        conversation=_inbound().conversation(),
        idempotency_key="job:slack:T111:event:Ev03EGJQAVMM",
        segments=[
            TextSegment(text="Sunday has the highest average tip."),
            TableSegment(columns=["day", "tip"], rows=[["Sun", 3.26], ["Sat", None]]),
            ImageSegment.from_png(PNG, alt="bar chart"),
            ImageSegment(blob_key="slack:T111/charts/abc.png"),
            FileSegment.from_bytes(b"day,tip\nSun,3.26\n", file_name="r.csv", mime="text/csv"),
            CitationsSegment(citations=[Citation(title="handbook.pdf", location="p. 3")]),
            ReceiptSegment(sources=["tips.csv"], rows_used=244, spec={"op": "aggregate"}),
        ],
    )


def test_reply_round_trips_through_json_with_every_segment() -> None:
    reply = _full_reply()
    wire = reply.model_dump_json()
    back = Reply.model_validate_json(wire)
    assert back == reply
    assert [s.kind for s in back.segments] == [
        "text",
        "table",
        "image",
        "image",
        "file",
        "citations",
        "receipt",
    ]
    image = back.segments[2]
    assert isinstance(image, ImageSegment)
    assert image.inline_bytes() == PNG
    assert back.text == "Sunday has the highest average tip."


def test_segments_are_discriminated_by_kind() -> None:
    adapter: TypeAdapter[Segment] = TypeAdapter(Segment)
    parsed = adapter.validate_python({"kind": "table", "columns": ["a"], "rows": [[1]]})
    assert isinstance(parsed, TableSegment)
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "video", "url": "x"})


@pytest.mark.parametrize(
    "fields",
    [
        {},  # neither bytes nor key
        {"data_base64": "iVBORw0KGgo=", "blob_key": "ws/x"},  # both
        {"data_base64": "not base64!!"},
        {"data_base64": "aGVsbG8="},  # valid base64, not a PNG
    ],
)
def test_image_segment_needs_exactly_one_valid_png_source(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ImageSegment.model_validate(fields)


def test_table_rows_must_match_columns() -> None:
    with pytest.raises(ValidationError):
        TableSegment(columns=["a", "b"], rows=[[1]])


def test_reply_from_text() -> None:
    ref = _inbound().conversation()
    reply = Reply.from_text(ref, "No permission.", idempotency_key="k")
    assert reply.text == "No permission."
    assert Reply.model_validate_json(reply.model_dump_json()) == reply
