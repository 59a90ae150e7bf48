"""Discord JSON objects the fake returns, with the fields discord.py reads."""

from __future__ import annotations

from typing import Any

TIMESTAMP = "2025-01-01T00:00:00+00:00"


def user(user_id: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": "nexus",
        "discriminator": "0",
        "global_name": "Nexus",
        "avatar": None,
        "bot": True,
        "flags": 0,
    }


def application(app_id: str, owner: dict[str, Any]) -> dict[str, Any]:
    # discord.py's Client.login reads these from GET /oauth2/applications/@me.
    return {
        "id": app_id,
        "name": "Nexus",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": owner,
        "verify_key": "00" * 32,
        "flags": 0,
    }


def gateway_bot(url: str) -> dict[str, Any]:
    limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
    return {"url": url, "shards": 1, "session_start_limit": limit}


def command(definition: dict[str, Any], command_id: str, app_id: str) -> dict[str, Any]:
    return {**definition, "id": command_id, "application_id": app_id, "version": "1"}


def callback(interaction_id: str) -> dict[str, Any]:
    # discord.py reads data["interaction"]["id"]; real Discord sends this with_response=1.
    return {
        "interaction": {
            "id": interaction_id,
            "type": 2,
            "response_message_loading": True,
            "response_message_ephemeral": False,
        }
    }


def attachment(attachment_id: str, name: str, size: int, base: str) -> dict[str, Any]:
    url = f"{base}/{name}"
    return {"id": attachment_id, "filename": name, "size": size, "url": url, "proxy_url": url}


def message(
    message_id: str,
    channel_id: str,
    body: dict[str, Any],
    attachments: list[dict[str, Any]],
    author: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": 0,
        "channel_id": channel_id,
        "content": body.get("content") or "",
        "author": author,
        "attachments": attachments,
        "embeds": body.get("embeds") or [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "flags": 0,
        "components": [],
    }


def thread(thread_id: str, parent_id: str, owner_id: str, name: str) -> dict[str, Any]:
    meta = {
        "archived": False,
        "auto_archive_duration": 1440,
        "archive_timestamp": TIMESTAMP,
        "locked": False,
    }
    return {
        "id": thread_id,
        "type": 11,
        "guild_id": "3",
        "parent_id": parent_id,
        "owner_id": owner_id,
        "name": name,
        "flags": 0,
        "thread_metadata": meta,
    }
