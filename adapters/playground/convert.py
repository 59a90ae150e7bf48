"""Pure converters: the page's form → ``Inbound``, and ``Reply`` → what the page draws.

The playground is one platform workspace (``local``, so the Nexus workspace is
``playground:local``) with one channel; each thread of the page is a platform thread.
Every message is addressed to Nexus (like a DM), so nothing needs an @mention.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from core.errors import InputError, InternalError
from core.events import FileRef, Inbound, Reply

PLATFORM = "playground"
WORKSPACE_ID = "local"
CHANNEL_ID = "chat"
LOCAL_USER = "you"
"""The person at the keyboard: made owner when the workspace is first seen."""

_THREAD = re.compile(r"[a-z0-9]{6,40}")
_ACTOR = re.compile(r"[A-Za-z0-9._-]{1,40}")
_EVENT = re.compile(r"[A-Za-z0-9_-]{6,64}")


def check_thread(thread: str) -> str:
    if not _THREAD.fullmatch(thread):
        raise InputError("A thread id is 6-40 lowercase letters or digits.")
    return thread


def check_actor(actor: str) -> str:
    if not _ACTOR.fullmatch(actor):
        raise InputError("A user id is 1-40 letters, digits, dots, dashes or underscores.")
    return actor


def check_event(event_id: str) -> str:
    if not _EVENT.fullmatch(event_id):
        raise InputError("Each message needs a client id of 6-64 letters or digits.")
    return event_id


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def to_inbound(
    *, thread: str, actor: str, text: str, event_id: str, files: list[FileRef]
) -> Inbound:
    """One message of the page; ``event_id`` comes from the page, so a resend dedupes."""
    return Inbound(
        platform=PLATFORM,
        workspace_id=WORKSPACE_ID,
        channel_id=CHANNEL_ID,
        thread_id=check_thread(thread),
        message_id=check_event(event_id),
        event_id=check_event(event_id),
        actor_id=check_actor(actor),
        actor_name=actor,
        text=text,
        files=files,
        direct=True,
    )


def message_entry(inbound: Inbound) -> dict[str, Any]:
    """The user's message as the thread shows it."""
    return {
        "type": "message",
        "actor": inbound.actor_id,
        "text": inbound.text,
        "files": [{"name": f.name, "size": f.size} for f in inbound.files],
        "at": inbound.received_at.isoformat(),
    }


def notice_entry(text: str) -> dict[str, Any]:
    """A line from the playground itself (a message that could not be delivered)."""
    return {"type": "notice", "text": text, "at": now_iso()}


def reply_entry(reply: Reply) -> dict[str, Any]:
    """A reply with its segments as JSON (images inline as base64, or by blob key)."""
    dumped = reply.model_dump(mode="json")
    return {
        "type": "reply",
        "key": reply.idempotency_key,
        "segments": dumped["segments"],
        "at": now_iso(),
    }


def thread_of(reply_thread: str | None) -> str:
    """Replies always go to a page thread; a reply without one is a bug upstream."""
    if reply_thread is None or not _THREAD.fullmatch(reply_thread):
        raise InternalError(f"not a playground thread: {reply_thread!r}")
    return reply_thread
