"""Thread context: a file uploaded in a thread answers that thread's questions only."""

from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import plotly.express as px
import pytest
from conversation_stack import Stack

from core.datasets.ingest import load_tables_from_bytes
from core.datasets.models import Table
from core.settings import IngestLimits
from core.threads import ThreadFile, pick_tables


async def test_upload_then_question_in_the_same_thread(stack: Stack, tips_csv: bytes) -> None:
    uploaded = await stack.upload("tips.csv", tips_csv, thread="t1")
    summary = await stack.answer(uploaded)
    assert summary.startswith("Got tips.csv: 244 rows × 7 columns (total_bill, tip, sex,")
    assert "Ask me something like “average total_bill by sex”" in summary

    answer = await stack.answer(await stack.say("average tip", thread="t1"))
    expected = pd.read_csv(io.BytesIO(tips_csv))["tip"].mean()
    assert f"{expected:.2f}" in answer

    # Another thread of the same channel never sees the file.
    other = await stack.answer(await stack.say("average tip", thread="t2"))
    assert "no data to analyse yet" in other.lower()


async def test_forget_drops_the_threads_files(stack: Stack, tips_csv: bytes) -> None:
    await stack.answer(await stack.upload("tips.csv", tips_csv, thread="t1"))
    listed = await stack.say("datasets", thread="t1")
    assert listed.reply is not None and "1. tips.csv: 244 rows × 7 columns" in listed.reply.text

    forgot = await stack.say("forget", thread="t1")
    assert forgot.reply is not None
    assert forgot.reply.text == "Forgot 1 file(s) in this thread: tips.csv."
    after = await stack.say("datasets", thread="t1")
    assert after.reply is not None and after.reply.text.startswith("No files in this thread yet")
    answer = await stack.answer(await stack.say("average tip", thread="t1"))
    assert "no data to analyse yet" in answer.lower()


async def test_a_question_can_name_the_file_it_means(stack: Stack, tips_csv: bytes) -> None:
    iris = px.data.iris().to_csv(index=False).encode()
    await stack.answer(await stack.upload("tips.csv", tips_csv, thread="t1"))
    await stack.answer(await stack.upload("iris.csv", iris, thread="t1"))
    rows = await stack.answer(await stack.say("how many rows in the second file", thread="t1"))
    assert "150" in rows
    rows = await stack.answer(await stack.say("how many rows are in tips.csv", thread="t1"))
    assert "244" in rows
    # A follow-up without a reference stays on the file the previous answer used.
    again = await stack.answer(await stack.say("how many rows are there", thread="t1"))
    assert "244" in again


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("sum of sales in the Q3 sheet", ["book.xlsx [Q3]"]),
        ("the second file: how many rows", ["book.xlsx [Q1]", "book.xlsx [Q3]"]),
        ("in the last upload, count rows", ["b.csv"]),
        ("the 2nd sheet", ["book.xlsx [Q1]"]),
        ("how many rows", ["a.csv", "book.xlsx [Q1]", "book.xlsx [Q3]", "b.csv"]),
        ("rows in b.csv", ["b.csv"]),
        ("rows of the book workbook", ["book.xlsx [Q1]", "book.xlsx [Q3]"]),
    ],
)
def test_pick_tables_resolves_references(question: str, expected: list[str]) -> None:
    (base,) = load_tables_from_bytes(b"x,sales\n1,2\n", "a.csv", IngestLimits())

    def table(file_name: str, sheet: str | None = None) -> Table:
        label = f"{file_name} [{sheet}]" if sheet else file_name
        return replace(base, name=label, source_file=file_name, sheet=sheet)

    files = [
        ThreadFile("a.csv", [table("a.csv")]),
        ThreadFile("book.xlsx", [table("book.xlsx", "Q1"), table("book.xlsx", "Q3")]),
        ThreadFile("b.csv", [table("b.csv")]),
    ]
    assert [t.name for t in pick_tables(question, files).tables] == expected


def test_pick_tables_prefers_the_given_table() -> None:
    (base,) = load_tables_from_bytes(b"x,sales\n1,2\n", "a.csv", IngestLimits())
    files = [ThreadFile("a.csv", [base]), ThreadFile("b.csv", [replace(base, name="b.csv")])]
    assert [t.name for t in pick_tables("how many rows", files, prefer=["b.csv"]).tables] == [
        "b.csv",
        "a.csv",
    ]
