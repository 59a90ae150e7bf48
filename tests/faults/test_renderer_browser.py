"""The renderer's Chromium SIGKILLed, on the whole path (manager → ARQ on real Redis →
worker pipeline → answerer → warm ChartRenderer → recording sender): once between two
chart questions, once while a job is rendering its chart.

The designed behaviour (core/charts/renderer.py): a render that finds its browser dead,
or loses it midway, relaunches it and retries once, inside the same job. So every
question is answered exactly once with its table *and* a fresh PNG, with no job-level
retry and no "chart could not be drawn" note, and the worker keeps serving.
"""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
from conversation_stack import Stack, StackFactory, wait_until

from core.charts import ChartRenderer, png_size
from core.charts.browser import process_tree
from core.events import ImageSegment, ReceiptSegment, Reply, TableSegment, TextSegment

pytestmark = pytest.mark.browser

CHARTED = [TextSegment, TableSegment, ImageSegment, ReceiptSegment]


def chromium_pids(launcher: int | None) -> list[int]:
    """The Chromium processes under the renderer's launcher, and only those."""
    assert launcher is not None, "the renderer has no running browser"
    assert launcher in process_tree(os.getpid()), "the launcher is not this test's child"
    return [pid for pid in process_tree(launcher) if "chrom" in _proc(pid, "comm")]


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:
        return ""


def running(pid: int) -> bool:
    """Alive and not a zombie (a SIGKILLed child stays a zombie until reaped)."""
    state = _proc(pid, "stat").rsplit(")", 1)[-1].split()[:1]
    return state not in ([], ["Z"])


async def charted_reply(stack: Stack, job_id: str | None) -> Reply:
    """The one reply of a finished job, with text, table, chart and receipt."""
    key = job_id or ""
    # A relaunch costs seconds (more on a busy machine): wait for the post, then for
    # the job's final status (recorded just after it).
    await stack.sender.wait_for(lambda: bool(stack.sender.for_key(key)), within=60)
    assert await stack.finished(job_id) == "succeeded"
    (reply,) = stack.sender.for_key(key)  # exactly one: no duplicate post
    assert [type(s) for s in reply.segments] == CHARTED, reply.text
    return reply


def assert_table(reply: Reply, expected: pd.Series) -> None:
    (table,) = [s for s in reply.segments if isinstance(s, TableSegment)]
    shown = {row[0]: row[1] for row in table.rows}
    assert shown == pytest.approx(expected.to_dict())


def png_of(reply: Reply) -> bytes:
    (image,) = [s for s in reply.segments if isinstance(s, ImageSegment)]
    png = image.inline_bytes() or b""
    assert png_size(png) == (900, 540)  # a whole PNG at the renderer's default size
    return png


def steps(stack: Stack, job_id: str | None) -> list[str]:
    return [p.text for p in stack.sender.progress_updates if p.key == job_id]


def kill(pids: list[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


async def test_a_killed_browser_is_relaunched_and_every_question_gets_its_chart(
    make_stack: StackFactory, sqlite_database_url: str, tips_csv: bytes
) -> None:
    tips = pd.read_csv(io.BytesIO(tips_csv))
    async with ChartRenderer(timeout=10.0) as renderer:
        stack = await make_stack(database_url=sqlite_database_url, renderer=renderer)
        await stack.start_worker()

        first = await stack.upload("tips.csv", tips_csv, "average tip by day", thread="t1")
        before = await charted_reply(stack, first.job_id)
        assert_table(before, tips.groupby("day")["tip"].mean())
        first_png = png_of(before)

        # 1. Killed between two questions.
        launcher = renderer.browser_pid
        victims = chromium_pids(launcher)
        assert victims, "no Chromium process found under the renderer"
        kill(victims)

        async def all_dead() -> bool:
            return not any(running(pid) for pid in victims)

        await wait_until(all_dead, within=10)  # the next job surely meets a dead browser

        second = await stack.say("total bill by sex", thread="t1")
        after = await charted_reply(stack, second.job_id)
        assert_table(after, tips.groupby("sex")["total_bill"].sum())
        assert png_of(after) != first_png
        # Recovered inside the render: no job retry, no apology for a missing chart.
        assert steps(stack, second.job_id) == ["Analysing…", "Rendering chart…"]
        receipt = after.segments[-1]
        assert isinstance(receipt, ReceiptSegment)
        assert not any("could not be drawn" in note for note in receipt.notes)
        assert "could not be drawn" not in after.text
        relaunched = renderer.browser_pid
        assert relaunched not in (None, launcher)

        # 2. Killed while the next job says "Rendering chart…": the worker keeps
        # serving, and that same render relaunches the browser once more.
        victims = chromium_pids(relaunched)
        third_key: list[str] = []

        def kill_on_render() -> bool:
            rendering = [
                p.key for p in stack.sender.progress_updates if p.text == "Rendering chart…"
            ]
            if third_key and third_key[0] in rendering:
                kill(victims)
                return True
            return False

        third = await stack.say("average tip by time", thread="t1")
        third_key.append(third.job_id or "")
        await stack.sender.wait_for(kill_on_render, within=30)
        later = await charted_reply(stack, third.job_id)
        assert_table(later, tips.groupby("time")["tip"].mean())
        png_of(later)
        assert renderer.browser_pid not in (None, launcher, relaunched)
        await stack.stop_worker()

    # One reply per question, and nothing else was posted.
    keys = [r.idempotency_key for r in stack.sender.replies]
    assert keys == [first.job_id, second.job_id, third.job_id]
