"""Slack request bodies shaped like the real ones (reference/platforms.md §1.2), and
the v0 request signing Slack applies to each of them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "test-signing-secret"

_ids = itertools.count(1)


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def signed_json(payload: dict[str, Any], **kwargs: Any) -> tuple[str, dict[str, str]]:
    body = json.dumps(payload)
    return body, {"Content-Type": "application/json", **sign(body, **kwargs)}


def signed_form(fields: dict[str, str], **kwargs: Any) -> tuple[str, dict[str, str]]:
    body = urlencode(fields)
    return body, {"Content-Type": "application/x-www-form-urlencoded", **sign(body, **kwargs)}


def envelope(
    team: str, bot_user_id: str, event: dict[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "api_app_id": "A0NEXUS",
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "event": event,
    }


def app_mention(
    team: str,
    bot_user_id: str,
    *,
    channel: str,
    ts: str,
    text: str,
    user: str = "UALICE",
    thread_ts: str | None = None,
    files: list[dict[str, Any]] | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{bot_user_id}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": team,
        "client_msg_id": f"cm-{ts}",
    }
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=user)
    if files:
        event["files"] = files
    return envelope(team, bot_user_id, event, event_id=event_id)


def message(
    team: str,
    bot_user_id: str,
    *,
    channel: str,
    ts: str,
    text: str = "",
    user: str | None = "UALICE",
    thread_ts: str | None = None,
    files: list[dict[str, Any]] | None = None,
    channel_type: str = "channel",
    event_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "event_ts": ts,
        "team": team,
        **extra,
    }
    if user is not None:
        event["user"] = user
    if thread_ts:
        event.update(thread_ts=thread_ts, parent_user_id=user)
    if files:
        event.update(subtype="file_share", files=files, upload=False, display_as_bot=False)
    return envelope(team, bot_user_id, event, event_id=event_id)


def slash_command(
    team: str, *, text: str, channel: str = "C1", user: str = "UALICE"
) -> dict[str, str]:
    n = next(_ids)
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": "analytics",
        "user_id": user,
        "user_name": "alice",
        "command": "/nexus",
        "text": text,
        "api_app_id": "A0NEXUS",
        "response_url": f"https://hooks.slack.com/commands/{team}/{n}/x",
        "trigger_id": f"{n}.{n}.trigger{n:04d}",
    }
