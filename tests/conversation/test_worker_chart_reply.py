"""A charted answer end to end: progress lines, then text, a table, the PNG from the
worker's warm renderer and the receipt, with numbers checked against pandas."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conversation_stack import StackFactory

from core.charts.renderer import ChartRenderer
from core.events import ImageSegment, ReceiptSegment, TableSegment, TextSegment

pytestmark = pytest.mark.browser


async def test_charted_answer_has_every_segment(make_stack: StackFactory, tips_csv: bytes) -> None:
    async with ChartRenderer(timeout=20.0) as renderer:
        stack = await make_stack(renderer=renderer)
        await stack.start_worker()
        accepted = await stack.upload("tips.csv", tips_csv, "average tip by day")
        await stack.answer(accepted, within=60)

    (reply,) = stack.sender.for_key(accepted.job_id or "")
    kinds = [type(s) for s in reply.segments]
    assert kinds == [TextSegment, TableSegment, ImageSegment, ReceiptSegment]
    table = reply.segments[1]
    assert isinstance(table, TableSegment)
    expected = pd.read_csv(io.BytesIO(tips_csv)).groupby("day")["tip"].mean()
    shown = {row[0]: row[1] for row in table.rows}
    assert shown.keys() == set(expected.index)
    for day, value in expected.items():
        assert shown[day] == pytest.approx(value)
    image = reply.segments[2]
    assert isinstance(image, ImageSegment) and image.file_name == "average-tip-by-day.png"
    assert (image.inline_bytes() or b"").startswith(b"\x89PNG")
    receipt = reply.segments[3]
    assert isinstance(receipt, ReceiptSegment) and receipt.sources == ["tips.csv"]
    steps = [p.text for p in stack.sender.progress_updates if p.key == accepted.job_id]
    assert steps == ["Reading tips.csv…", "Analysing…", "Rendering chart…"]
