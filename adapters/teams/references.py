"""Stored conversation references: how the worker finds its way back into a Teams thread.

Each incoming message stores ``TurnContext.get_conversation_reference`` (service URL,
conversation id with its ``;messageid=`` thread, bot and user accounts) under the
workspace and the full conversation id, replacing the previous one: Microsoft may
move a conversation to another service URL, and the latest reference is the one to
use. The worker loads it by the id carried in the job and replies proactively.

Rows go through :mod:`core.storage.repositories.installations` (the one place that
will encrypt routing data at rest).
"""

from __future__ import annotations

from botbuilder.schema import ConversationReference

from core.errors import StorageError
from core.events import workspace_key
from core.storage.db import Database
from core.storage.repositories import installations


class ReferenceStore:
    """Save and load Teams conversation references in the database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(self, tenant_id: str, reference: ConversationReference) -> None:
        conversation_id = reference.conversation.id
        async with self._db.session() as session:
            await installations.save_reference(
                session,
                workspace_key("teams", tenant_id),
                conversation_id,
                platform="teams",
                data=reference.serialize(),
            )

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
