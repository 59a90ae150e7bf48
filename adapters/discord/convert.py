"""Pure conversion of Discord inbound payloads into :class:`~core.events.Inbound`.

Two shapes arrive: an interaction in Discord's wire format (a slash command over
the HTTP endpoint, or rebuilt from discord.py's ``Interaction`` over the gateway),
and a gateway message summarized as :class:`MessageFacts` (discord.py keeps no raw
message payload). No I/O here, so both are tested with plain data.

Scopes: the workspace is the guild; a DM gets its own workspace ``dm:<user id>`` so
one person's private files never land in a server's workspace. Inside a thread the
channel is the thread's parent and ``thread_id`` the thread, so a file uploaded with
the first question and the follow-ups in the bot's thread share one scope.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import JsonValue

from core.events import FileRef, Inbound

DISCORD_EPOCH_MS = 1_420_070_400_000
TOKEN_LIFETIME_SECONDS = 15 * 60
"""Interaction tokens accept follow-ups for 15 minutes after the interaction."""
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
THREAD_TYPES = frozenset({10, 11, 12})
"""Announcement, public and private thread channel types."""
THREAD_NAME_MAX = 100

# Option types (application-commands.mdx): 1/2 nest, 11 attachment, 6-9 mentions.
_SUB_COMMAND, _SUB_GROUP, _USER, _CHANNEL, _ROLE, _MENTIONABLE, _ATTACHMENT = 1, 2, 6, 7, 8, 9, 11
_MENTION_FORMAT = {_USER: "<@{}>", _MENTIONABLE: "<@{}>", _CHANNEL: "<#{}>", _ROLE: "<@&{}>"}


def snowflake_seconds(snowflake: str | int) -> float:
    """The epoch time (seconds) embedded in a Discord snowflake."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000


def workspace_for(guild_id: str | None, user_id: str) -> str:
    return str(guild_id) if guild_id else f"dm:{user_id}"


def attachment_ref(attachment: Mapping[str, Any], *, size_limit: int | None = None) -> FileRef:
    """A file reference for one Discord attachment object.

    The signed CDN URL's ``ex`` parameter (hex epoch seconds) is kept as
    ``expires_at`` so the fetcher can say "upload it again" without a request.
    """
    extra: dict[str, JsonValue] = {"ephemeral": bool(attachment.get("ephemeral", False))}
    if size_limit is not None:
        extra["size_limit"] = int(size_limit)
    url = str(attachment["url"])
    expires = parse_qs(urlsplit(url).query).get("ex")
    if expires:
        # An unsigned or unusual URL simply has no expiry to report.
        with contextlib.suppress(ValueError):
            extra["expires_at"] = int(expires[0], 16)
    return FileRef(
        id=str(attachment["id"]),
        name=str(attachment.get("filename") or attachment["id"]),
        size=attachment.get("size"),
        mime=attachment.get("content_type"),
        download_url=url,
        auth="none",  # CDN downloads carry no Authorization (discord.py does the same)
        extra=extra,
    )


@dataclass
class _Words:
    words: list[str] = field(default_factory=list)
    attachment_ids: list[str] = field(default_factory=list)


def _flatten(options: Sequence[Mapping[str, Any]], out: _Words) -> _Words:
    """Subcommand names and option values in order, as a user would type them."""
    for option in options:
        kind = option.get("type")
        if kind in (_SUB_COMMAND, _SUB_GROUP):
            out.words.append(str(option["name"]))
            _flatten(option.get("options") or [], out)
        elif kind == _ATTACHMENT:
            out.attachment_ids.append(str(option["value"]))
        elif kind in _MENTION_FORMAT:
            out.words.append(_MENTION_FORMAT[kind].format(option["value"]))
        elif option.get("value") is not None:
            out.words.append(str(option["value"]))
    return out


def interaction_to_inbound(
    payload: Mapping[str, Any], *, received_at: datetime | None = None
) -> Inbound:
    """An application-command interaction (type 2) as an addressed command.

    ``command`` is the top-level name (``ask``, ``upload``, ``nexus``); ``text`` is the
    rest as typed: the question for ``/ask``, ``"role <@42> analyst"`` for ``/nexus role``.
    The reply goes through the interaction webhook while the token lives; the
    conversation data carries what that needs, never the bot token.
    """
    data = payload.get("data") or {}
    words = _flatten(data.get("options") or [], _Words())
    resolved = (data.get("resolved") or {}).get("attachments") or {}
    limit = int(payload.get("attachment_size_limit") or DEFAULT_UPLOAD_LIMIT)
    files = [
        attachment_ref(resolved[a], size_limit=limit) for a in words.attachment_ids if a in resolved
    ]

    user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
    user_id = str(user.get("id", ""))
    guild_id = payload.get("guild_id")
    channel = payload.get("channel") or {}
    channel_id = str(payload.get("channel_id") or channel.get("id", ""))
    thread_id: str | None = None
    if channel.get("type") in THREAD_TYPES and channel.get("parent_id"):
        thread_id, channel_id = channel_id, str(channel["parent_id"])

    interaction_id = str(payload["id"])
    conversation: dict[str, JsonValue] = {
        "application_id": str(payload["application_id"]),
        "interaction_token": str(payload["token"]),
        "token_expires_at": snowflake_seconds(interaction_id) + TOKEN_LIFETIME_SECONDS,
        "user_id": user_id,
    }
    return Inbound(
        platform="discord",
        workspace_id=workspace_for(guild_id, user_id),
        channel_id=channel_id,
        thread_id=thread_id,
        message_id=interaction_id,
        event_id=interaction_id,
        actor_id=user_id,
        actor_name=user.get("global_name") or user.get("username"),
        text=" ".join(words.words),
        files=files,
        direct=guild_id is None,
        command=str(data.get("name", "")) or None,
        received_at=received_at or datetime.now(UTC),
        conversation_data=conversation,
    )


@dataclass(frozen=True)
class MessageFacts:
    """What the adapter needs from one gateway message (read off discord.py's ``Message``)."""

    message_id: str
    channel_id: str
    """Where it was posted: the thread's own id when in a thread."""
    guild_id: str | None
    author_id: str
    author_name: str | None
    content: str
    bot_id: str
    mentions_bot: bool
    thread_parent_id: str | None = None
    """The parent channel when the message is in a thread."""
    thread_owner_id: str | None = None
    attachments: tuple[Mapping[str, Any], ...] = ()


def strip_mention(content: str, bot_id: str) -> str:
    return re.sub(rf"<@!?{re.escape(bot_id)}>", " ", content).strip()


def thread_name(text: str) -> str:
    first = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(first) > THREAD_NAME_MAX:
        first = first[: THREAD_NAME_MAX - 1] + "…"
    return first or "Nexus"


def message_to_inbound(
    facts: MessageFacts, *, received_at: datetime | None = None
) -> Inbound | None:
    """A message addressed to Nexus, or None when it is not ours to answer.

    Addressed: an @mention, a DM, or any message in a thread the bot started. A
    mention in a plain channel is answered in a new thread started on that message;
    Discord gives such a thread the message's id, so ``thread_id`` is known now and
    the sender creates the thread on first post.
    """
    in_thread = facts.thread_parent_id is not None
    in_bot_thread = in_thread and facts.thread_owner_id == facts.bot_id
    direct = facts.guild_id is None
    if not (facts.mentions_bot or direct or in_bot_thread):
        return None
    text = strip_mention(facts.content, facts.bot_id)
    conversation: dict[str, JsonValue] = {"message_id": facts.message_id}
    channel_id, thread_id = facts.channel_id, None
    if in_thread:
        channel_id, thread_id = str(facts.thread_parent_id), facts.channel_id
    elif not direct:
        thread_id = facts.message_id
        conversation.update(start_thread=True, thread_name=thread_name(text))
    return Inbound(
        platform="discord",
        workspace_id=workspace_for(facts.guild_id, facts.author_id),
        channel_id=channel_id,
        thread_id=thread_id,
        message_id=facts.message_id,
        event_id=facts.message_id,
        actor_id=facts.author_id,
        actor_name=facts.author_name,
        text=text,
        files=[attachment_ref(a) for a in facts.attachments],
        # A message in Nexus's own thread is addressed to it as much as a mention is;
        # Inbound has no third flag, and the core answers only addressed messages.
        mentioned=facts.mentions_bot or in_bot_thread,
        direct=direct,
        received_at=received_at or datetime.now(UTC),
        conversation_data=conversation,
    )
