"""A Teams activity (Bot Framework JSON, camelCase) as an :class:`~core.events.Inbound`.

Pure functions over the activity's JSON, so they are tested with plain dicts and do
not depend on the SDK that parsed the request.

- **Where**: the workspace is the tenant. ``conversation.id`` of a channel thread is
  ``19:…@thread.tacv2;messageid=<root id>``: the part before ``;messageid=`` is the
  channel and the root id is the thread, so files and answers are scoped to the
  thread. Personal and group chats have no threads.
- **Addressed**: personal chats always are; elsewhere Teams only delivers messages
  that @mention the bot, and the mention entity says so. ``<at>…</at>`` tags are
  stripped from the text (the bot's own) or reduced to the name (anyone else's).
- **Files**: ``application/vnd.microsoft.teams.file.download.info`` carries a
  pre-authenticated ``downloadUrl`` (personal chat only); pasted images carry a
  ``contentUrl`` that needs the bot's token. Files attached in channels and group
  chats are not delivered to bots: we only see a trace of them, and report them as
  :attr:`TeamsMessage.withheld_files` so the user is told what to do.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.events import FileRef, Inbound

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
THREAD_MARKER = ";messageid="
PERSONAL = "personal"
_UNNAMED = "the attached file"

_AT_TAG = re.compile(r"<at[^>]*>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_HTML_FILE_TAG = re.compile(r"<attachment\s+id=", re.IGNORECASE)
_IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}

Activity = Mapping[str, Any]


@dataclass(frozen=True)
class TeamsMessage:
    """A message activity, normalized; ``inbound`` is None when Nexus was not addressed."""

    inbound: Inbound | None
    withheld_files: list[str] = field(default_factory=list)
    """Names of files attached where Teams does not pass them to bots (channels, groups)."""


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def tenant_of(activity: Activity) -> str:
    """The tenant id (the Nexus workspace); the channel id for non-Teams clients
    such as the Bot Framework Emulator, which send none."""
    tenant = _dict(activity.get("conversation")).get("tenantId") or _dict(
        _dict(activity.get("channelData")).get("tenant")
    ).get("id")
    return str(tenant or activity.get("channelId") or "unknown")


def split_conversation(conversation_id: str) -> tuple[str, str | None]:
    """``(channel id, thread root id)`` of a conversation id."""
    channel, marker, root = conversation_id.partition(THREAD_MARKER)
    return channel, (root or None) if marker else None


def conversation_type(activity: Activity) -> str:
    conversation = _dict(activity.get("conversation"))
    kind = conversation.get("conversationType")
    if isinstance(kind, str) and kind:
        return kind
    return "groupChat" if conversation.get("isGroup") else PERSONAL


def mentions_bot(activity: Activity) -> bool:
    bot_id = _dict(activity.get("recipient")).get("id")
    for entity in activity.get("entities") or []:
        entity = _dict(entity)
        if entity.get("type") == "mention" and _dict(entity.get("mentioned")).get("id") == bot_id:
            return True
    return False


def clean_text(activity: Activity) -> str:
    """The words the user typed: the bot's mention removed, other mentions as names."""
    bot_id = _dict(activity.get("recipient")).get("id")
    bot_tags = {
        str(_dict(e).get("text"))
        for e in activity.get("entities") or []
        if _dict(e).get("type") == "mention"
        and _dict(_dict(e).get("mentioned")).get("id") == bot_id
    }
    text = str(activity.get("text") or "")
    for tag in bot_tags:
        text = text.replace(tag, " ")
    text = _AT_TAG.sub(lambda m: m.group(1), text)
    return " ".join(html.unescape(text).split())


def _download_info(attachment: Mapping[str, Any], number: int) -> FileRef | None:
    content = _dict(attachment.get("content"))
    url = content.get("downloadUrl")
    if not isinstance(url, str) or not url:
        return None
    name = str(attachment.get("name") or f"file-{number}")
    extra: dict[str, Any] = {}
    if content.get("fileType"):
        extra["file_type"] = str(content["fileType"])
    return FileRef(
        id=str(content.get("uniqueId") or f"{name}-{number}"),
        name=name,
        download_url=url,
        auth="none",
        extra=extra,
    )


def _inline_image(attachment: Mapping[str, Any], number: int, message_id: str) -> FileRef | None:
    url = attachment.get("contentUrl")
    content_type = str(attachment.get("contentType") or "")
    if not isinstance(url, str) or not url:
        return None
    extension = _IMAGE_EXTENSIONS.get(content_type, "png")
    name = str(attachment.get("name") or f"image-{number}.{extension}")
    mime = content_type if content_type in _IMAGE_EXTENSIONS else None
    return FileRef(
        id=f"{message_id}-img-{number}", name=name, mime=mime, download_url=url, auth="platform"
    )


def _withheld_name(attachment: Mapping[str, Any]) -> str | None:
    """The name of a file Teams shows but does not deliver (channel or group chat)."""
    content_type = str(attachment.get("contentType") or "")
    if content_type == "text/html":
        body = str(attachment.get("content") or "")
        return _UNNAMED if _HTML_FILE_TAG.search(body) else None
    if content_type == "reference" or content_type == FILE_DOWNLOAD_INFO:
        return str(attachment.get("name") or _UNNAMED)
    return None


def read_attachments(activity: Activity, message_id: str) -> tuple[list[FileRef], list[str]]:
    """Files Nexus can download, and names of files it was not given."""
    files: list[FileRef] = []
    withheld: list[str] = []
    for number, raw in enumerate(activity.get("attachments") or [], start=1):
        attachment = _dict(raw)
        content_type = str(attachment.get("contentType") or "")
        ref: FileRef | None = None
        if content_type == FILE_DOWNLOAD_INFO:
            ref = _download_info(attachment, number)
        elif content_type.startswith("image/"):
            ref = _inline_image(attachment, number, message_id)
        if ref is not None:
            files.append(ref)
            continue
        name = _withheld_name(attachment)
        if name is not None and name not in withheld:
            withheld.append(name)
    named = [name for name in withheld if name != _UNNAMED]
    return files, named or withheld


def _received_at(activity: Activity) -> datetime:
    stamp = activity.get("timestamp")
    if isinstance(stamp, str):
        try:
            parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return datetime.now(UTC)


def activity_to_message(activity: Activity) -> TeamsMessage:
    """Normalize one ``message`` activity (other types are not messages to answer)."""
    if activity.get("type") != "message":
        return TeamsMessage(inbound=None)
    conversation = _dict(activity.get("conversation"))
    conversation_id = str(conversation.get("id") or "")
    message_id = str(activity.get("id") or "")
    if not conversation_id or not message_id:
        return TeamsMessage(inbound=None)
    kind = conversation_type(activity)
    direct = kind == PERSONAL
    mentioned = mentions_bot(activity)
    if not (direct or mentioned):
        return TeamsMessage(inbound=None)
    files, withheld = read_attachments(activity, message_id)
    channel_id, thread_id = split_conversation(conversation_id)
    sender = _dict(activity.get("from"))
    inbound = Inbound(
        platform="teams",
        workspace_id=tenant_of(activity),
        channel_id=channel_id,
        thread_id=thread_id,
        message_id=message_id,
        # Activity ids are unique per conversation only: Teams' own dedupe key is the pair.
        event_id=f"{conversation_id}|{message_id}",
        actor_id=str(sender.get("aadObjectId") or sender.get("id") or "unknown"),
        actor_name=str(sender["name"]) if sender.get("name") else None,
        text=clean_text(activity),
        files=files,
        mentioned=mentioned,
        direct=direct,
        received_at=_received_at(activity),
        conversation_data={
            "conversation_id": conversation_id,
            "conversation_type": kind,
            "message_id": message_id,
            "service_url": str(activity.get("serviceUrl") or ""),
        },
    )
    return TeamsMessage(inbound=inbound, withheld_files=[] if direct else withheld)
