"""Typed async data access, one module per concept.

Every function takes an ``AsyncSession`` (the caller owns the transaction, usually
``async with database.session() as session``) and a workspace id, and every query
filters on that workspace: no function can read or change another workspace's rows.
Functions flush but never commit.

Use them as namespaces::

    from core.storage.repositories import datasets, members
    role = await members.get_role(session, workspace_id, user_id)
    files = await datasets.list_for_scope(session, workspace_id, channel_id, thread_id)
"""

from __future__ import annotations

from core.storage.repositories import (
    api_keys,
    audit,
    datasets,
    installations,
    jobs,
    members,
    messages,
    usage,
    workspaces,
)

__all__ = [
    "api_keys",
    "audit",
    "datasets",
    "installations",
    "jobs",
    "members",
    "messages",
    "usage",
    "workspaces",
]
