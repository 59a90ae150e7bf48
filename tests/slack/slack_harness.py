"""Test helpers for the Slack adapter: a recording Intake (a test double at our own
boundary, for adapter-level tests only), serving an aiohttp app on 127.0.0.1:0,
settings pointing at the fake Slack, a harness posting signed requests, the browser
side of the OAuth install, and :class:`Nexus` (the whole app, for end-to-end tests)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import slack_payloads as payloads
from aiohttp import web
from fake_slack import FakeSlack, Team
from slack_payloads import SIGNING_SECRET, signed_form, signed_json

from adapters.slack.factory import SlackAdapter
from adapters.slack.plugin import SlackPlugin
from bot.runtime import Runtime
from core.errors import StorageError
from core.events import Inbound
from core.ports import Acceptance
from core.settings import Settings
from core.storage.repositories import jobs


class RecordingIntake:
    """Records every Inbound; dedupes like the core (event id, channel + ts)."""

    def __init__(self) -> None:
        self.inbounds: list[Inbound] = []
        self.fail = False
        self.decide: Callable[[Inbound], Acceptance] | None = None
        self.results: list[Acceptance] = []
        self._seen: set[str] = set()

    @property
    def enqueued(self) -> list[Inbound]:
        return [
            i for i, r in zip(self.inbounds, self.results, strict=False) if r.kind == "enqueued"
        ]

    async def accept(self, inbound: Inbound) -> Acceptance:
        self.inbounds.append(inbound)
        if self.fail:
            self.results.append(Acceptance("ignored"))
            raise StorageError("queue unavailable")
        result = self._decide(inbound)
        self.results.append(result)
        return result

    def _decide(self, inbound: Inbound) -> Acceptance:
        keys = set(inbound.dedupe_keys())
        if keys & self._seen:
            return Acceptance("duplicate")
        self._seen |= keys
        if self.decide is not None:
            return self.decide(inbound)
        if not inbound.addressed:
            return Acceptance("ignored")
        return Acceptance("enqueued", job_id=f"job-{inbound.event_id}")


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@dataclass
class SlackHarness:
    fake: FakeSlack
    team: Team
    adapter: SlackAdapter
    intake: Any
    url: str
    session: aiohttp.ClientSession
    extra: dict[str, Any] = field(default_factory=dict)

    async def post_event(
        self, payload: dict[str, Any], headers: dict[str, str] | None = None, **sign: Any
    ) -> aiohttp.ClientResponse:
        body, signed = signed_json(payload, **sign)
        async with self.session.post(
            f"{self.url}/slack/events", data=body, headers={**signed, **(headers or {})}
        ) as resp:
            await resp.read()
            return resp

    async def post_command(self, fields: dict[str, str]) -> tuple[int, Any]:
        body, signed = signed_form(fields)
        async with self.session.post(f"{self.url}/slack/events", data=body, headers=signed) as resp:
            text = await resp.text()
            return resp.status, json.loads(text) if text.startswith("{") else text


def slack_settings(fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def install(
    session: aiohttp.ClientSession, url: str, fake: FakeSlack, team: Team, installer: str
) -> tuple[int, str, str]:
    """Walk the browser part of the OAuth flow: install page, Slack, redirect back.
    Returns the callback's status, the state and the cookie header used."""
    async with session.get(f"{url}/slack/install", allow_redirects=False) as resp:
        assert resp.status == 200
        page = await resp.text()
        cookie = SimpleCookie(resp.headers["Set-Cookie"])
    authorize = re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page)
    assert authorize is not None
    query = parse_qs(urlparse(authorize.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [fake.client_id] and "files:read" in query["scope"][0]
    code = fake.issue_oauth_code(team, installer)  # the user clicked "Allow" at Slack
    cookies = "; ".join(f"{k}={v.value}" for k, v in cookie.items())
    redirect = f"{url}/slack/oauth_redirect?code={code}&state={query['state'][0]}"
    async with session.get(redirect, headers={"Cookie": cookies}) as resp:
        await resp.read()
        return resp.status, query["state"][0], cookies


class Nexus:
    """``nexus dev`` in one process: runtime (manager + ARQ worker), web app, Slack."""

    def __init__(self, runtime: Runtime, plugin: SlackPlugin, url: str) -> None:
        self.runtime, self.plugin, self.url = runtime, plugin, url
        self.session = aiohttp.ClientSession()

    async def post(
        self, payload: dict[str, Any], headers: dict[str, str] | None = None, **sign: Any
    ) -> int:
        body, signed = payloads.signed_json(payload, **sign)
        return await self.post_raw(body, {**signed, **(headers or {})})

    async def post_raw(self, body: str, headers: dict[str, str]) -> int:
        async with self.session.post(
            f"{self.url}/slack/events", data=body, headers=headers
        ) as resp:
            await resp.read()
            return resp.status

    async def command(self, fields: dict[str, str]) -> str:
        body, headers = payloads.signed_form(fields)
        async with self.session.post(
            f"{self.url}/slack/events", data=body, headers=headers
        ) as resp:
            assert resp.status == 200
            text: str = (await resp.json())["text"]
            return text

    async def job_count(self, workspace: str) -> int:
        async with self.runtime.database.session() as session:
            return len(await jobs.recent(session, workspace))
