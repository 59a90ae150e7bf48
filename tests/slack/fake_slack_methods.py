"""What each fake Slack Web API method answers (the state lives in FakeSlack).

Shapes follow reference/platforms.md §1.3-1.5: ``chat.postMessage`` returns the
message and its ts; ``files.completeUploadExternal`` takes ``files`` as a JSON
string; ``oauth.v2.access`` authenticates the client by HTTP Basic auth. A token
used on another team's channel gets ``channel_not_found``.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Team:
    id: str
    name: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    channels: set[str] = field(default_factory=set)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None
    http_method: str


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    team: str
    data: bytes | None = None
    upload_had_auth: bool = False
    channel: str | None = None
    thread_ts: str | None = None
    title: str | None = None


class WebApiMethods:
    """Handlers named after the method (``chat.postMessage`` → ``_chat_postMessage``)."""

    base_url: str
    messages: list[dict[str, Any]]
    uploads: dict[str, Upload]
    reactions: set[tuple[str, str, str]]
    oauth_codes: dict[str, tuple[Team, str]]
    client_id: str
    client_secret: str
    _ts: itertools.count[int]
    _ids: itertools.count[int]

    def _auth_test(self, team: Team, params: dict[str, Any], request: web.Request) -> web.Response:
        return ok(
            url=f"https://{team.name}.slack.com/",
            team=team.name,
            user="nexus",
            team_id=team.id,
            user_id=team.bot_user_id,
            bot_id=team.bot_id,
            is_enterprise_install=False,
        )

    def _chat_postMessage(
        self, team: Team, params: dict[str, Any], request: web.Request
    ) -> web.Response:
        channel = params.get("channel")
        if channel not in team.channels:
            return error("channel_not_found")
        ts = f"1700000000.{next(self._ts):06d}"
        blocks = params.get("blocks")
        message = {
            "team": team.id,
            "channel": channel,
            "ts": ts,
            "thread_ts": params.get("thread_ts"),
            "text": params.get("text", ""),
            "blocks": json.loads(blocks) if isinstance(blocks, str) else blocks,
            "user": team.bot_user_id,
            "bot_id": team.bot_id,
        }
        self.messages.append(message)
        return ok(channel=channel, ts=ts, message=message)

    def _chat_update(
        self, team: Team, params: dict[str, Any], request: web.Request
    ) -> web.Response:
        for message in self.messages:
            if message["channel"] == params.get("channel") and message["ts"] == params.get("ts"):
                if message["team"] != team.id:
                    break
                message["text"] = params.get("text", "")
                message["edited"] = message.get("edited", 0) + 1
                return ok(channel=message["channel"], ts=message["ts"], text=message["text"])
        return error("message_not_found")

    def _react(self, team: Team, params: dict[str, Any], *, add: bool) -> web.Response:
        if params.get("channel") not in team.channels:
            return error("channel_not_found")
        key = (str(params.get("channel")), str(params.get("timestamp")), str(params.get("name")))
        if add == (key in self.reactions):
            return error("already_reacted" if add else "no_reaction")
        (self.reactions.add if add else self.reactions.discard)(key)
        return ok()

    def _reactions_add(
        self, team: Team, params: dict[str, Any], request: web.Request
    ) -> web.Response:
        return self._react(team, params, add=True)

    def _reactions_remove(
        self, team: Team, params: dict[str, Any], request: web.Request
    ) -> web.Response:
        return self._react(team, params, add=False)

    def _files_getUploadURLExternal(
        self, team: Team, params: dict[str, Any], request: web.Request
    ) -> web.Response:
        file_id = f"F{next(self._ids):06d}"
        self.uploads[file_id] = Upload(
            file_id, str(params["filename"]), int(params["length"]), team.id
        )
        return ok(upload_url=f"{self.base_url}/upload/{file_id}", file_id=file_id)

    def _files_completeUploadExternal(
        self, team: Team, params: dict[str, Any], request: web.Request
    ) -> web.Response:
        files = json.loads(params["files"])
        channel = params.get("channel_id")
        if channel is not None and channel not in team.channels:
            return error("channel_not_found")
        done = []
        for item in files:
            upload = self.uploads.get(item["id"])
            if upload is None or upload.team != team.id or upload.data is None:
                return error("file_not_found")
            upload.channel, upload.thread_ts, upload.title = (
                channel,
                params.get("thread_ts"),
                item.get("title"),
            )
            done.append({"id": upload.file_id, "title": upload.title, "name": upload.filename})
        return ok(files=done)

    def _oauth_access(self, params: dict[str, Any], auth: str) -> web.Response:
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        if (client_id, secret) != (self.client_id, self.client_secret):
            return error("invalid_client_id")
        found = self.oauth_codes.pop(str(params.get("code")), None)
        if found is None:
            return error("invalid_code")
        team, installer = found
        return ok(
            app_id="A0NEXUS",
            authed_user={"id": installer},
            scope="chat:write,files:read",
            token_type="bot",
            access_token=team.bot_token,
            bot_user_id=team.bot_user_id,
            team={"id": team.id, "name": team.name},
            enterprise=None,
            is_enterprise_install=False,
        )


def ok(**fields: Any) -> web.Response:
    return web.json_response({"ok": True, **fields})


def error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})
