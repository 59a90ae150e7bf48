"""Reply → Slack calls: Block Kit under Slack's limits, table, receipt, uploads."""

from __future__ import annotations

import base64

from adapters.slack.render import (
    MAX_BLOCKS,
    MESSAGE_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    PostMessage,
    UploadFile,
    render_reply,
    split_text,
    to_mrkdwn,
)
from core.events import (
    PNG_MAGIC,
    Citation,
    CitationsSegment,
    ConversationRef,
    ImageSegment,
    ReceiptSegment,
    Reply,
    TableSegment,
    TextSegment,
)

CONV = ConversationRef(platform="slack", workspace_id="T1", channel_id="C1", thread_id="1.0")
PNG = PNG_MAGIC + b"\x00" * 64


def reply(*segments: object) -> Reply:
    return Reply(conversation=CONV, segments=list(segments), idempotency_key="job-1")  # type: ignore[arg-type]


def section_texts(calls: list[object]) -> list[str]:
    return [
        b["text"]["text"]
        for c in calls
        if isinstance(c, PostMessage)
        for b in c.blocks
        if b["type"] == "section"
    ]


def test_answer_table_receipt_then_chart_upload() -> None:
    calls = render_reply(
        reply(
            TextSegment(text="Total revenue is **4,827.77**."),
            TableSegment(columns=["day", "total_bill"], rows=[["Sat", 1778.4], ["Sun", 1627.16]]),
            ImageSegment.from_png(PNG, alt="Revenue by day"),
            ReceiptSegment(method="spec", sources=["tips.csv"], rows_used=244, duration_ms=1234),
        )
    )
    message, upload = calls
    assert isinstance(message, PostMessage) and isinstance(upload, UploadFile)
    types = [b["type"] for b in message.blocks]
    assert types == ["section", "section", "context"]
    assert message.blocks[0]["text"]["text"] == "Total revenue is *4,827.77*."
    table = message.blocks[1]["text"]["text"]
    assert table.startswith("```\n") and table.endswith("\n```")
    assert "Sat    1,778.40" in table
    receipt = message.blocks[2]["elements"][0]["text"]
    assert "from tips.csv" in receipt and "244 rows" in receipt and "1.2 s" in receipt
    assert message.text == "Total revenue is **4,827.77**."
    assert base64.b64decode(upload.data_base64 or "") == PNG and upload.title == "Revenue by day"


def test_long_text_splits_under_section_and_message_limits() -> None:
    paragraph = "word " * 500  # 2,500 characters
    text = "\n\n".join([paragraph.strip()] * 200)  # ~500k characters
    calls = render_reply(reply(TextSegment(text=text)))
    assert all(isinstance(c, PostMessage) for c in calls) and len(calls) > 1
    for call in calls:
        assert isinstance(call, PostMessage)
        assert len(call.blocks) <= MAX_BLOCKS
        assert sum(len(b["text"]["text"]) for b in call.blocks) <= MESSAGE_TEXT_LIMIT
        assert all(len(b["text"]["text"]) <= SECTION_TEXT_LIMIT for b in call.blocks)
        assert len(call.text) <= 3000
    # Nothing lost, nothing duplicated.
    assert sum(t.count("word") for t in section_texts(calls)) == 500 * 200


def test_split_keeps_code_fences_balanced() -> None:
    code = "```\n" + "\n".join(f"x{i} = {i}" for i in range(2000)) + "\n```"
    chunks = split_text(code)
    assert len(chunks) > 1
    assert all(len(c) <= SECTION_TEXT_LIMIT and c.count("```") % 2 == 0 for c in chunks)


def test_big_table_is_cut_to_fit_and_says_so() -> None:
    rows = [[f"country number {i}", i * 1000.5, i] for i in range(500)]
    calls = render_reply(
        reply(
            TableSegment(
                columns=["country", "gdp", "rank"], rows=rows, truncated=True, total_rows=5000
            )
        )
    )
    (message,) = calls
    assert isinstance(message, PostMessage)
    table, note = message.blocks
    assert len(table["text"]["text"]) <= SECTION_TEXT_LIMIT
    assert note["type"] == "context" and "of 5,000 rows" in note["elements"][0]["text"]


def test_mrkdwn_escapes_and_links() -> None:
    assert to_mrkdwn("a < b & [docs](https://x.io/a)") == "a &lt; b &amp; <https://x.io/a|docs>"
    assert to_mrkdwn("# Summary") == "*Summary*"


def test_citations_and_blob_images() -> None:
    calls = render_reply(
        reply(
            CitationsSegment(
                citations=[
                    Citation(title="Policy.pdf", location="p. 3", snippet="Refunds within 30 days")
                ]
            ),
            ImageSegment(blob_key="slack:T1/charts/c.png", alt=""),
        )
    )
    message, upload = calls
    assert isinstance(message, PostMessage) and isinstance(upload, UploadFile)
    assert "[1] *Policy.pdf* (p. 3)" in message.blocks[0]["text"]["text"]
    assert upload.blob_key == "slack:T1/charts/c.png" and upload.title == "Chart"
