"""Teams message activities shaped like the real ones (platforms.md §3.2)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from fake_bot_framework import APP_ID

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT = {"id": f"28:{APP_ID}", "name": "Nexus"}
USER = {"id": "29:1a2b3c-user", "name": "Jane Smith", "aadObjectId": "aad-jane-0001"}

_ids = itertools.count(1_700_000_000_000)


def activity_id() -> str:
    return str(next(_ids))


def personal_conversation() -> str:
    return f"a:1{uuid.uuid4().hex}"


def channel_thread(root: str | None = None) -> str:
    return f"19:{uuid.uuid4().hex[:12]}@thread.tacv2;messageid={root or activity_id()}"


def message(
    service_url: str,
    *,
    text: str = "",
    conversation_id: str | None = None,
    kind: str = "personal",
    mention: bool = False,
    attachments: list[dict[str, Any]] | None = None,
    tenant: str = TENANT,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A message activity; ``kind`` is ``personal``, ``groupChat`` or ``channel``."""
    conversation_id = conversation_id or (
        channel_thread() if kind == "channel" else personal_conversation()
    )
    entities: list[dict[str, Any]] = []
    if mention:
        tag = f"<at>{BOT['name']}</at>"
        text = f"{tag} {text}"
        entities.append({"type": "mention", "mentioned": BOT, "text": tag})
    conversation: dict[str, Any] = {
        "id": conversation_id,
        "conversationType": kind,
        "tenantId": tenant,
        "isGroup": kind != "personal",
    }
    channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
    if kind == "channel":
        channel_data["channel"] = {"id": conversation_id.split(";")[0]}
        channel_data["team"] = {"id": "19:team@thread.tacv2"}
    return {
        "type": "message",
        "id": message_id or activity_id(),
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": USER,
        "conversation": conversation,
        "recipient": BOT,
        "text": text,
        "textFormat": "plain",
        "locale": "en-US",
        "attachments": attachments or [],
        "entities": entities,
        "channelData": channel_data,
    }


def file_attachment(name: str, download_url: str) -> dict[str, Any]:
    """A file sent in personal chat (``supportsFiles``)."""
    return {
        "contentType": "application/vnd.microsoft.teams.file.download.info",
        "contentUrl": f"https://contoso-my.sharepoint.com/personal/jane/Documents/{name}",
        "name": name,
        "content": {
            "downloadUrl": download_url,
            "uniqueId": str(uuid.uuid4()).upper(),
            "fileType": name.rsplit(".", 1)[-1],
            "etag": "1",
        },
    }


def inline_image(content_url: str) -> dict[str, Any]:
    return {"contentType": "image/png", "contentUrl": content_url}


def channel_file_trace(name: str) -> list[dict[str, Any]]:
    """What a channel message with an attached file carries: HTML and a reference."""
    return [
        {"contentType": "text/html", "content": '<p>see</p><attachment id="abc"></attachment>'},
        {
            "contentType": "reference",
            "contentUrl": f"https://contoso.sharepoint.com/sites/team/Shared%20Documents/{name}",
            "name": name,
        },
    ]
