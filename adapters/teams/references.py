"""Stored conversation references: how the worker finds its way back into a Teams thread.

Each incoming message stores ``TurnContext.get_conversation_reference`` (service URL,
conversation id with its ``;messageid=`` thread, bot and user accounts) under the
workspace and the full conversation id, replacing the previous one: Microsoft may
move a conversation to another service URL, and the latest reference is the one to
use. The worker loads it by the id carried in the job and replies proactively.

Rows go through :mod:`core.storage.repositories.installations` (the one place that
will encrypt routing data at rest).

A conversation's reference rarely changes between its messages, and its upsert was a
quarter of the web process's CPU per Teams event, on the ack path. So each process
remembers what it saved for a few minutes and skips a save that would write the same
routing again. The message's own id is not part of that: replies are threaded under
the id the job carries (``ConversationRef.data["message_id"]``), not the stored one.
"""

from __future__ import annotations

import json

from botbuilder.schema import ConversationReference
from cachetools import TTLCache

from core.errors import StorageError
from core.events import workspace_key
from core.storage.db import Database
from core.storage.repositories import installations


class ReferenceStore:
    """Save and load Teams conversation references in the database."""

    def __init__(self, database: Database, *, remember_seconds: float = 300.0) -> None:
        self._db = database
        self._saved: TTLCache[tuple[str, str], str] = TTLCache(10_000, remember_seconds)
        """(workspace, conversation id) → the routing this process last saved for it."""

    async def save(self, tenant_id: str, reference: ConversationReference) -> None:
        conversation_id = reference.conversation.id
        workspace = workspace_key("teams", tenant_id)
        data = reference.serialize()
        routing = json.dumps({k: v for k, v in data.items() if k != "activityId"}, sort_keys=True)
        if self._saved.get((workspace, conversation_id)) == routing:
            return
        # One statement on a bare connection: an ORM session around it cost as much
        # CPU again, on the ack path of every new Teams conversation.
        async with self._db.engine.begin() as connection:
            await installations.save_reference(
                connection, workspace, conversation_id, platform="teams", data=data
            )
        self._saved[(workspace, conversation_id)] = routing

    async def load(self, tenant_id: str, conversation_id: str) -> ConversationReference:
        async with self._db.session() as session:
            row = await installations.get_reference(
                session, workspace_key("teams", tenant_id), conversation_id
            )
        if row is None:
            # Only a lost or different database gets here (the turn stores the reference
            # before it enqueues); without it there is no way to reach the user at all.
            raise StorageError("no stored Teams conversation reference for this conversation")
        reference = ConversationReference().deserialize(row.data)
        if not reference.service_url or reference.conversation is None:
            raise StorageError("stored Teams conversation reference is incomplete")
        return reference
