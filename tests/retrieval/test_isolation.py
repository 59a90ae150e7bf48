"""Workspace and scope isolation under random interleavings of upload, ask and forget.

Every document shares the words asked about, so only the filters keep them apart: a
passage from another workspace, another channel or another thread (or a forgotten
document) in an answer is a leak.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict

import pytest
from retrieval_support import WORKSPACES

from core.retrieval.library import DocumentLibrary
from core.retrieval.scopes import Scope
from core.storage.db import Database
from core.storage.repositories import documents

ScopeKey = tuple[str, str, str | None]
SCOPES: list[ScopeKey] = [
    (ws, channel, thread)
    for ws in WORKSPACES
    for channel in ("C1", "C2")
    for thread in (None, "T1", "T2")
]
QUESTION = "quarterly budget memo for the platform team"


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_no_passage_crosses_a_scope(
    library: DocumentLibrary, database: Database, seed: int
) -> None:
    rng = random.Random(seed)
    live: dict[ScopeKey, set[str]] = defaultdict(set)
    ever: dict[ScopeKey, set[str]] = defaultdict(set)
    asked = 0
    for _ in range(45):
        scope = rng.choice(SCOPES)
        ws, channel, thread = scope
        action = rng.choices(["upload", "ask", "forget"], weights=[5, 4, 1])[0]
        if action == "upload":
            marker = uuid.uuid4().hex[:8]
            text = f"# Memo {marker}\n\nThe quarterly budget memo {marker} for the platform team."
            done = await library.ingest(
                text.encode(),
                file_name=f"{marker}.md",
                workspace=ws,
                channel=channel,
                thread=thread,
            )
            live[scope].add(done.document_id)
            ever[scope].add(done.document_id)
        elif action == "forget":
            async with database.session() as session:
                await documents.forget_scope(session, ws, channel, thread)
            live[scope].clear()
        else:
            asked += 1
            answer = await library.ask(QUESTION, workspace=ws, channel=channel, thread=thread)
            cited = {p.document_id for p in answer.search.passages}
            assert cited <= live[scope], f"leak into {scope}: {cited - live[scope]}"
            assert bool(cited) == bool(live[scope])
            # The Milvus filter alone (no catalogue) still never leaves the scope.
            raw = await library.search.search(
                QUESTION, workspace=ws, scopes=[Scope.of(channel, thread)], limit=50
            )
            assert {p.document_id for p in raw.passages} <= ever[scope]
    assert asked > 5
