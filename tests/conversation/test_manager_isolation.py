"""Workspace isolation end to end, on SQLite and PostgreSQL: two workspaces with the
same channel, thread and user ids never see each other's files, history or usage."""

from __future__ import annotations

from conversation_stack import StackFactory

from core.storage.repositories import datasets, messages


async def test_workspaces_never_share_files_history_or_usage(
    database_url: str, make_stack: StackFactory, tips_csv: bytes
) -> None:
    stack = await make_stack(database_url=database_url)
    await stack.start_worker()
    same = {"channel": "C1", "thread": "t1", "actor": "U1"}

    summary = await stack.answer(await stack.upload("tips.csv", tips_csv, workspace="A", **same))
    assert summary.startswith("Got tips.csv")
    in_a = await stack.answer(await stack.say("how many rows", workspace="A", **same))
    assert "244" in in_a

    listed = await stack.say("datasets", workspace="B", **same)
    assert listed.reply is not None and listed.reply.text.startswith("No files in this thread")
    in_b = await stack.answer(await stack.say("how many rows", workspace="B", **same))
    assert "no data to analyse yet" in in_b.lower()
    usage_b = await stack.say("usage", workspace="B", **same)
    assert usage_b.reply is not None and "Today: 1 analyses, 0 bytes uploaded" in usage_b.reply.text

    async with stack.database.session() as session:
        assert len(await datasets.list_for_scope(session, "test:A", "C1", "t1")) == 1
        assert await datasets.list_for_scope(session, "test:B", "C1", "t1") == []
        history_b = await messages.history(session, "test:B", "C1", "t1")
    assert [m.text for m in history_b if m.role == "user"] == ["how many rows"]
    # B's forget cannot touch A's file.
    forgot = await stack.say("forget", workspace="B", **same)
    assert forgot.reply is not None and forgot.reply.text == "This thread has no files to forget."
    assert "244" in await stack.answer(await stack.say("how many rows?", workspace="A", **same))
