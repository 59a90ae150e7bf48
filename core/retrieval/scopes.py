"""Which documents an asker sees, as a Milvus filter expression.

The rule is the datasets' rule (core/threads.py): a document is stored in the scope
(workspace, channel, thread) it was uploaded in and is seen only from that scope. A
file dropped in a thread answers questions in that thread; one posted at channel
level (thread ``""``) answers questions asked at channel level. Every query names the
workspace (Milvus's partition key, so other tenants' partitions are not even read)
and the scopes; there is no query without them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from core.storage.models import NO_THREAD


@dataclass(frozen=True)
class Scope:
    channel: str
    thread: str = NO_THREAD

    @classmethod
    def of(cls, channel: str, thread: str | None) -> Scope:
        return cls(channel, NO_THREAD if thread is None else thread)


def visible_scopes(channel: str, thread: str | None) -> list[Scope]:
    """The scopes an asker in (channel, thread) sees: exactly their own."""
    return [Scope.of(channel, thread)]


def literal(value: str) -> str:
    """A Milvus string literal: JSON quoting is what its expression parser accepts
    (quotes, backslashes and control characters escaped), checked against milvus-lite."""
    return json.dumps(value, ensure_ascii=False)


def scope_filter(workspace: str, scopes: Sequence[Scope]) -> str:
    """``workspace == "W" and ((channel == "C" and thread == "T") or ...)``."""
    if not scopes:
        raise ValueError("a query must name at least one scope")
    parts = [
        f"(channel == {literal(scope.channel)} and thread == {literal(scope.thread)})"
        for scope in dict.fromkeys(scopes)
    ]
    return f"workspace == {literal(workspace)} and ({' or '.join(parts)})"
