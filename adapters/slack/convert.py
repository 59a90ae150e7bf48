"""Slack payloads → :class:`core.events.Inbound` (pure functions, no I/O).

What Slack sends and what we keep:

- the workspace is the envelope's ``team_id`` (the installation's team, which
  picks the bot token), not ``event.team``, which differs in Slack Connect channels;
- the thread is ``thread_ts`` or, for a top-level message, its own ``ts``: Slack
  asks for the *parent* ts when replying, and a top-level mention starts a thread;
- ``message_id`` is the message ``ts`` and ``event_id`` the envelope's id, so the
  core's deduplicator collapses both retries (same event id) and the
  ``app_mention`` + ``message`` pair Slack sends for one tagged message (same ts);
- files become :class:`FileRef` with ``url_private_download`` and
  ``auth="platform"``: the worker downloads them later with the bot token.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, Literal

from core.events import FileRef, Inbound

Payload = Mapping[str, Any]

MessageIntent = Literal["direct", "mention", "upload", "thread"]
"""Why a ``message`` event may concern Nexus; ``thread`` still needs the caller to
know that Nexus is answering that thread."""

# Subtypes that are a person saying something; edits, deletions, joins, channel
# topic changes and the like are ignored.
_SPOKEN_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})

_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL_LINK = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPACES = re.compile(r"[ \t]+")


def is_from_bot(event: Payload) -> bool:
    """Messages by any bot (Nexus itself included) are never questions."""
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def is_direct(event: Payload) -> bool:
    return event.get("channel_type") == "im"


def thread_root(event: Payload) -> str:
    """The parent ts to reply under (a top-level message starts its own thread)."""
    return str(event.get("thread_ts") or event["ts"])


def in_thread(event: Payload) -> bool:
    """A reply inside an existing thread (not the thread's parent message)."""
    parent = event.get("thread_ts")
    return bool(parent) and parent != event.get("ts")


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and any(m.group(1) == user_id for m in _USER_MENTION.finditer(text))


def mentions_someone_else(text: str, bot_user_id: str | None) -> bool:
    """The message tags another person: in a thread, it is talk between people."""
    return any(m.group(1) != bot_user_id for m in _USER_MENTION.finditer(text))


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack markup to the text a person typed: the bot's mention removed, channel and
    link markup unwrapped, HTML entities decoded. Other users' mentions stay as
    ``<@U123>`` so commands like ``role @someone viewer`` can name them."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER_MENTION.sub(lambda m: f"<@{m.group(1)}>", text)
    text = _CHANNEL_LINK.sub(lambda m: f"#{m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    lines = (_SPACES.sub(" ", line).strip() for line in html.unescape(text).splitlines())
    return "\n".join(lines).strip()


def message_intent(event: Payload, bot_user_id: str | None) -> MessageIntent | None:
    """Why a ``message`` event might be for Nexus, or None to ignore it outright."""
    if event.get("type") != "message" or is_from_bot(event):
        return None
    if event.get("subtype") not in _SPOKEN_SUBTYPES or not event.get("user"):
        return None
    text = str(event.get("text") or "")
    if is_direct(event):
        return "direct"
    if mentions(text, bot_user_id):
        return "mention"
    if event.get("files"):
        return "upload"
    if in_thread(event) and not mentions_someone_else(text, bot_user_id):
        return "thread"
    return None


def file_ref(file: Payload) -> FileRef:
    """One entry of ``event.files``; files Slack hides or hosts elsewhere have no URL,
    so the fetcher can say why instead of downloading a login page."""
    hosted = file.get("mode") in (None, "hosted", "snippet", "post")
    url = (file.get("url_private_download") or file.get("url_private")) if hosted else None
    if file.get("is_external"):
        url = None
    size = file.get("size")
    extra = {key: file[key] for key in ("filetype", "mode", "is_external") if key in file}
    return FileRef(
        id=str(file["id"]),
        name=str(file.get("name") or file.get("title") or file["id"]),
        size=size if isinstance(size, int) and size >= 0 else None,
        mime=file.get("mimetype"),
        download_url=url,
        auth="platform",
        extra=extra,
    )


def event_to_inbound(body: Payload, *, bot_user_id: str | None, follow_up: bool = False) -> Inbound:
    """An ``app_mention`` or ``message`` event callback as an Inbound.

    ``follow_up``: a message in a thread Nexus is answering; it counts as addressed
    (``mentioned``) without a fresh @mention.
    """
    event = body["event"]
    text = str(event.get("text") or "")
    mentioned = event.get("type") == "app_mention" or mentions(text, bot_user_id)
    data: dict[str, Any] = {"message_ts": str(event["ts"])}
    if body.get("enterprise_id"):
        data["enterprise_id"] = str(body["enterprise_id"])
    return Inbound(
        platform="slack",
        workspace_id=str(body.get("team_id") or event.get("team")),
        channel_id=str(event["channel"]),
        thread_id=thread_root(event),
        message_id=str(event["ts"]),
        event_id=str(body.get("event_id") or f"{event['channel']}:{event['ts']}"),
        actor_id=str(event["user"]),
        text=plain_text(text, bot_user_id),
        files=[file_ref(f) for f in event.get("files") or [] if f.get("id")],
        mentioned=mentioned or follow_up,
        direct=is_direct(event),
        conversation_data=data,
    )


def command_to_inbound(body: Payload) -> Inbound:
    """A ``/nexus ...`` slash command: ``command`` is its name, ``text`` the rest.

    Slash commands carry no message ts and cannot be run inside threads; the
    ``trigger_id`` is unique per invocation, so it serves as both ids.
    """
    trigger = str(body["trigger_id"])
    data: dict[str, Any] = {}
    if body.get("enterprise_id"):
        data["enterprise_id"] = str(body["enterprise_id"])
    return Inbound(
        platform="slack",
        workspace_id=str(body["team_id"]),
        channel_id=str(body["channel_id"]),
        thread_id=None,
        message_id=trigger,
        event_id=trigger,
        actor_id=str(body["user_id"]),
        actor_name=body.get("user_name"),
        text=plain_text(str(body.get("text") or "")),
        command=str(body["command"]).lstrip("/"),
        direct=body.get("channel_name") == "directmessage",
        conversation_data=data,
    )
