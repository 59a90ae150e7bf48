"""The platforms' fakes of ``tests/``, time-stamping every call the workers make, and
when the answer to a given question was out (epoch seconds, comparable with the
load generator's due times).

- Slack: the question's check mark (text and chart are out), or the first chart
  uploaded into its thread;
- Discord: the edit of ``@original`` under the interaction's token (with a file);
- Teams: the first message activity answering the question's activity id
  (``replyToId``), or the first image activity doing so — the answer comes first,
  then each chart as its own activity.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import platforms  # noqa: F401  (first: it puts the tests' fakes on sys.path)
from aiohttp import web
from fake_bot_framework import FakeConnector
from fake_discord import FakeDiscord
from fake_slack import FakeSlack


class TimedSlack(FakeSlack):
    """The fake Slack, noting when each Web API call arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []

    async def _api(self, request: Any) -> Any:
        response = await super()._api(request)
        self.stamps.extend([time.time()] * (len(self.calls) - len(self.stamps)))
        return response

    def chart_at(self, thread: str, after: float) -> float | None:
        """When a chart was completed into ``thread`` after ``after``."""
        for call, at in zip(self.calls, self.stamps, strict=False):
            if (
                at >= after
                and call.method == "files.completeUploadExternal"
                and call.params.get("thread_ts") == thread
            ):
                return at
        return None

    def done_at(self, ts: str) -> float | None:
        """When the question posted at ``ts`` got its check mark (its answer is out)."""
        for call, at in zip(self.calls, self.stamps, strict=False):
            if (
                call.method == "reactions.add"
                and call.params.get("timestamp") == ts
                and call.params.get("name") == "white_check_mark"
            ):
                return at
        return None


class TimedDiscord(FakeDiscord):
    """The fake Discord, noting when each REST request arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []

    async def _rest(self, request: Any) -> Any:
        response = await super()._rest(request)
        self.stamps.extend([time.time()] * (len(self.requests) - len(self.stamps)))
        return response

    def answer_at(self, token: str, *, chart: bool) -> float | None:
        """When ``@original`` of the interaction with ``token`` was edited (with a file)."""
        suffix = f"/{token}/messages/@original"
        for rec, at in zip(self.requests, self.stamps, strict=False):
            if rec.method == "PATCH" and rec.path.endswith(suffix) and (rec.files or not chart):
                return at
        return None


@dataclass
class TimedConnector(FakeConnector):
    """The fake Bot Connector, noting when each activity was posted."""

    stamps: list[float] = field(default_factory=list)

    async def _post(self, request: web.Request) -> web.Response:
        response = await super()._post(request)
        self.stamps.extend([time.time()] * (len(self.posted) - len(self.stamps)))
        return response

    def answer_at(self, message_id: str, *, chart: bool) -> float | None:
        """When a message answering activity ``message_id`` (with a chart) was posted."""
        for posted, at in zip(self.posted, self.stamps, strict=False):
            if posted.type != "message" or posted.reply_to != message_id:
                continue
            kinds = {a.get("contentType") for a in posted.attachments}
            if not chart or "image/png" in kinds:
                return at
        return None
