"""Reply → activities within Teams' limits: cards, text splits, images fitted."""

from __future__ import annotations

import io
import json
import os

import plotly.express as px
from PIL import Image

from adapters.teams.images import MAX_BYTES, fit_png
from adapters.teams.render import (
    CARD_BUDGET,
    CARD_CONTENT_TYPE,
    ImagePost,
    render_reply,
)
from core.events import (
    ConversationRef,
    ImageSegment,
    ReceiptSegment,
    Reply,
    TableSegment,
    TextSegment,
)

WHERE = ConversationRef(platform="teams", workspace_id="T", channel_id="a:1")


def _png(width: int, height: int, *, noise: bool = False) -> bytes:
    if noise:  # incompressible: the byte limit, not the size, is what binds
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (200, 40, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_an_answer_is_one_card_then_each_chart_on_its_own() -> None:
    frame = px.data.iris().groupby("species", as_index=False)["sepal_length"].mean()
    reply = Reply(
        conversation=WHERE,
        idempotency_key="k",
        segments=[
            TextSegment(text="Mean sepal length by species."),
            TableSegment(columns=list(frame.columns), rows=frame.values.tolist()),
            ImageSegment.from_png(_png(30, 20)),
            ReceiptSegment(method="spec", sources=["iris.csv"], rows_used=150, duration_ms=1234),
        ],
    )
    card_activity, image = render_reply(reply)
    assert isinstance(image, ImagePost)
    assert isinstance(card_activity, dict) and "text" not in card_activity
    (attachment,) = card_activity["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    body = attachment["content"]["body"]
    (table,) = [e for e in body if e["type"] == "Table"]
    shown = {
        row["cells"][0]["items"][0]["text"]: row["cells"][1]["items"][0]["text"]
        for row in table["rows"][1:]
    }
    means = zip(frame["species"], frame["sepal_length"], strict=True)
    assert shown == {species: f"{mean:.2f}" for species, mean in means}
    assert table["columns"][1]["horizontalCellContentAlignment"] == "Right"
    (facts,) = [e for e in body if e["type"] == "FactSet"]
    assert {"title": "Rows", "value": "150"} in facts["facts"]


def test_a_huge_table_is_cut_to_the_card_budget_and_says_so() -> None:
    frame = px.data.gapminder()
    rows = frame[["country", "year", "pop"]].values.tolist()
    reply = Reply(
        conversation=WHERE,
        idempotency_key="k",
        segments=[TableSegment(columns=["country", "year", "pop"], rows=rows)],
    )
    (activity,) = render_reply(reply)
    assert isinstance(activity, dict)
    card = activity["attachments"][0]["content"]
    assert len(json.dumps(card)) <= CARD_BUDGET
    (table,) = [e for e in card["body"] if e["type"] == "Table"]
    shown = len(table["rows"]) - 1
    assert 0 < shown < len(rows)
    assert card["body"][-1]["text"] == f"Showing {shown:,} of {len(rows):,} rows."


def test_long_text_is_split_below_the_message_limit() -> None:
    words = [f"w{i}" for i in range(12_000)]  # ~70,000 characters
    activities = render_reply(Reply.from_text(WHERE, " ".join(words), idempotency_key="k"))
    assert len(activities) == 4
    assert all(isinstance(a, dict) and len(json.dumps(a).encode()) < 100_000 for a in activities)
    # Cut between words: nothing lost, nothing broken.
    assert [w for a in activities if isinstance(a, dict) for w in a["text"].split()] == words


def test_big_charts_are_fitted_to_1024_pixels_and_one_megabyte() -> None:
    small = _png(800, 600)
    assert fit_png(small) == small  # already fine: untouched
    wide = Image.open(io.BytesIO(fit_png(_png(3000, 1500))))
    assert wide.size == (1024, 512)
    heavy = _png(1000, 1000, noise=True)
    assert len(heavy) > MAX_BYTES
    fitted = fit_png(heavy)
    assert len(fitted) <= MAX_BYTES
    assert max(Image.open(io.BytesIO(fitted)).size) < 1000
