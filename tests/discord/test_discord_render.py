"""Pure rendering of replies into Discord messages within Discord's limits (no network).

Proves: content pieces ≤ 2000 characters that rejoin to the original text; the
summary embed ≤ 4096 with the chart shown inside it; tables as aligned code blocks
split by rows; receipt fields ≤ 25 and ≤ 1024 each; ≤ 6000 embed characters and ≤ 10
embeds and files per message; blob-backed images; never an empty message.
"""

from __future__ import annotations

from discord_helpers import tiny_png

from adapters.discord.render import (
    CONTENT_MAX,
    EMBEDS_TOTAL_MAX,
    OutMessage,
    embed_size,
    render_reply,
    split_text,
    table_blocks,
)
from core.events import (
    Citation,
    CitationsSegment,
    ConversationRef,
    FileSegment,
    ImageSegment,
    ReceiptSegment,
    Reply,
    Segment,
    TableSegment,
    TextSegment,
)

CONV = ConversationRef(platform="discord", workspace_id="1", channel_id="2")


def reply(*segments: Segment) -> Reply:
    return Reply(conversation=CONV, segments=list(segments), idempotency_key="k")


def within_limits(messages: list[OutMessage]) -> None:
    for m in messages:
        assert m.content is None or 0 < len(m.content) <= CONTENT_MAX
        assert len(m.embeds) <= 10 and len(m.files) <= 10
        assert sum(embed_size(e) for e in m.embeds) <= EMBEDS_TOTAL_MAX
        for e in m.embeds:
            assert len(e.get("description", "")) <= 4096
            assert len(e.get("fields", [])) <= 25
            assert all(
                len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in e.get("fields", [])
            )
        assert m.content or m.embeds or m.files


def test_split_text_keeps_everything_and_prefers_line_breaks() -> None:
    text = "\n".join(f"line {n} " + "y" * 70 for n in range(100))
    pieces = split_text(text)
    assert all(len(p) <= CONTENT_MAX for p in pieces)
    assert "\n".join(pieces) == text
    assert all(p.startswith("line ") for p in pieces)
    assert split_text("z" * 4500) == ["z" * 2000, "z" * 2000, "z" * 500]


def test_answer_with_table_chart_and_receipt_is_one_message() -> None:
    png = tiny_png()
    (msg,) = render_reply(
        reply(
            TextSegment(text="Sun has the highest average tip."),
            TableSegment(
                columns=["day", "mean_tip"],
                rows=[["Sun", 3.2551], ["Sat", 2.9931]],
                title="average tip by day",
            ),
            ImageSegment.from_png(png, file_name="chart.png"),
            ReceiptSegment(
                method="llm_spec",
                sources=["tips.csv"],
                model="gpt-4.1-mini",
                tokens_in=1200,
                tokens_out=80,
                cost_usd=0.0012,
                cached=True,
                notes=["used 244 rows"],
            ),
        )
    )
    assert msg.content == (
        "**average tip by day**\n```\nday  mean_tip\n---  --------\nSun  3.255\nSat  2.993\n```"
    )
    summary, receipt = msg.embeds
    assert summary["description"] == "Sun has the highest average tip."
    assert summary["image"] == {"url": "attachment://chart.png"}
    fields = {f["name"]: f["value"] for f in receipt["fields"]}
    assert fields["Method"] == "LLM-planned analysis" and fields["Model"] == "gpt-4.1-mini"
    assert fields["Tokens"] == "1,200 in / 80 out" and fields["Cost"] == "$0.0012"
    assert fields["Cached"] == "yes" and receipt["footer"]["text"] == "used 244 rows"
    assert [(f.name, f.data) for f in msg.files] == [("chart.png", png)]


def test_long_text_and_big_table_flow_into_more_messages() -> None:
    text = "word " * 1500  # 7500 chars: too long for an embed description
    table = TableSegment(
        columns=["name", "value"],
        rows=[[f"row-{n}", n * 1.5] for n in range(200)],
        truncated=True,
        total_rows=5000,
    )
    messages = render_reply(
        reply(
            TextSegment(text=text),
            table,
            ReceiptSegment(code="x = 1\n" * 400, spec={"k": "v" * 2000}),
        )
    )
    within_limits(messages)
    assert len(messages) > 4
    content = "\n".join(m.content or "" for m in messages)
    assert content.replace("\n", " ").count("word") == 1500
    assert "row-0 " in content and "row-199" in content and "Showing 200 of 5,000 rows." in content
    blocks = [m.content for m in messages if m.content and "```" in m.content]
    assert all(b.count("```") % 2 == 0 for b in blocks)  # no block cut open


def test_table_blocks_split_by_rows() -> None:
    table = TableSegment(columns=["c"], rows=[["v" * 30] for _ in range(200)])
    blocks = table_blocks(table)
    assert len(blocks) > 1 and all(len(b) <= CONTENT_MAX for b in blocks)
    assert sum(b.count("v" * 30) for b in blocks) == 200


def test_many_embeds_and_files_respect_per_message_limits() -> None:
    citations = CitationsSegment(
        citations=[
            Citation(title=f"doc{n}.pdf", location=f"p. {n}", snippet="s" * 400, url=None)
            for n in range(40)
        ]
    )
    files = [
        FileSegment.from_bytes(b"a,b\n", file_name=f"f{n}.csv", mime="text/csv") for n in range(12)
    ]
    messages = render_reply(
        reply(TextSegment(text="t" * 4000), citations, ReceiptSegment(notes=["n" * 3000]), *files)
    )
    within_limits(messages)
    assert sum(len(m.files) for m in messages) == 12
    assert len(messages) >= 2  # 4000 + 4096 + ... > 6000 embed characters


def test_blob_backed_image_and_empty_reply() -> None:
    png = tiny_png()
    (msg,) = render_reply(
        reply(ImageSegment(blob_key="w/charts/1", file_name="big.png")), {"w/charts/1": png}
    )
    assert msg.files[0].data == png and msg.embeds[0]["image"]["url"] == "attachment://big.png"
    (empty,) = render_reply(reply())
    assert empty.content == "Done."
