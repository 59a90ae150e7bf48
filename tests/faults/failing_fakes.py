"""The Slack and Discord fakes, scripted to answer some calls with 429 or 5xx first,
as a platform under load does; every failure they serve is counted."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from fake_discord import FakeDiscord
from fake_slack import FakeSlack


class FailingSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.script: dict[str, list[int]] = {}
        """Web API method -> statuses to answer with, in order, before succeeding."""
        self.served_failures = 0

    async def _api(self, request: web.Request) -> web.Response:
        statuses = self.script.get(request.match_info["method"])
        if statuses:
            self.served_failures += 1
            status = statuses.pop(0)
            headers = {"Retry-After": "1"} if status == 429 else {}
            return web.json_response({"ok": False, "error": "fatal_error"}, status=status,
                                     headers=headers)  # fmt: skip
        response: web.Response = await super()._api(request)
        return response


class FailingDiscord(FakeDiscord):
    def __init__(self) -> None:
        super().__init__()
        self.script: list[tuple[str, str, int]] = []
        """(HTTP method, path fragment, status) answered in order before succeeding."""
        self.served_failures = 0

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        tail = "/" + request.match_info.get("tail", "")
        for rule in self.script:
            method, fragment, status = rule
            if request.method == method and fragment in tail:
                self.script.remove(rule)
                self.served_failures += 1
                await request.read()
                body: dict[str, Any] = {"message": "Service unavailable", "code": 0}
                if status == 429:
                    body = {"message": "You are being rate limited.", "retry_after": 0.2,
                            "global": False}  # fmt: skip
                return web.json_response(body, status=status, headers={"Via": "1.1 google"})
        return await super()._rest(request)
