"""``POST /discord/interactions`` with real Ed25519 signatures (PyNaCl), served by aiohttp.

Proves: PING answered ``{"type": 1}``; missing, malformed, wrong-key and tampered
signatures and stale timestamps rejected with 401 before anything is accepted; a
signed ``/ask`` accepted and answered ``{"type": 5}``; a failing intake answered
non-2xx; an immediate reply returned inline as type 4.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from discord_helpers import RecordingIntake, ask_payload
from fake_discord import FakeDiscord
from nacl.signing import SigningKey

from adapters.discord.convert import interaction_to_inbound
from adapters.discord.interactions import InteractionsEndpoint
from adapters.discord.io import DiscordSender
from core.events import Reply
from core.ports import Acceptance

KEY = SigningKey.generate()


def signed(body: bytes, *, key: SigningKey = KEY, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if at is None else at))
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return {
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


@pytest.fixture
async def endpoint(
    fake: FakeDiscord, intake: RecordingIntake
) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    sender = DiscordSender(bot_token=fake.bot_token)
    handler = InteractionsEndpoint(
        public_key=KEY.verify_key.encode().hex(), intake=intake, sender=sender
    )
    app = web.Application()
    app.router.add_post("/discord/interactions", handler.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as session:
        yield f"http://127.0.0.1:{port}/discord/interactions", session
    await handler.aclose()
    await sender.aclose()
    await runner.cleanup()


async def post(
    endpoint: tuple[str, aiohttp.ClientSession], body: bytes, headers: dict[str, str]
) -> tuple[int, Any]:
    url, session = endpoint
    async with session.post(url, data=body, headers=headers) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def test_ping_is_answered_with_pong(endpoint: Any, intake: RecordingIntake) -> None:
    body = json.dumps(
        {"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1}
    ).encode()
    status, answer = await post(endpoint, body, signed(body))
    assert (status, answer) == (200, {"type": 1})


@pytest.mark.parametrize(
    "case", ["missing", "no-timestamp", "garbage", "wrong-key", "tampered", "stale", "future"]
)
async def test_bad_signatures_are_rejected(
    endpoint: Any, fake: FakeDiscord, intake: RecordingIntake, case: str
) -> None:
    body = json.dumps(ask_payload(fake)).encode()
    headers = {
        "missing": {"Content-Type": "application/json"},
        "no-timestamp": {k: v for k, v in signed(body).items() if k != "X-Signature-Timestamp"},
        "garbage": {**signed(body), "X-Signature-Ed25519": "zz" * 64},
        "wrong-key": signed(body, key=SigningKey.generate()),
        "tampered": signed(body.replace(b"average", b"maximum")),
        "stale": signed(body, at=time.time() - 600),
        "future": signed(body, at=time.time() + 600),
    }[case]
    status, _ = await post(endpoint, body, headers)
    assert status == 401
    assert intake.inbounds == []


async def test_signed_command_is_accepted_and_deferred(
    endpoint: Any, fake: FakeDiscord, intake: RecordingIntake
) -> None:
    url = fake.host_file("tips.csv", b"day,tip\n")
    payload = ask_payload(fake, file_url=url, guild_id=None)
    body = json.dumps(payload).encode()
    status, answer = await post(endpoint, body, signed(body))
    assert (status, answer) == (200, {"type": 5})
    (inbound,) = intake.inbounds
    assert inbound.workspace_id == "dm:999" and inbound.direct
    assert inbound.command == "ask" and inbound.files[0].download_url == url


async def test_failing_intake_is_not_acked(
    endpoint: Any, fake: FakeDiscord, intake: RecordingIntake
) -> None:
    intake.error = RuntimeError("queue unavailable")
    body = json.dumps(ask_payload(fake)).encode()
    status, _ = await post(endpoint, body, signed(body))
    assert status == 500


async def test_immediate_reply_is_returned_inline(
    endpoint: Any, fake: FakeDiscord, intake: RecordingIntake
) -> None:
    payload = ask_payload(fake)
    payload["data"] = {
        "id": "1",
        "name": "nexus",
        "type": 1,
        "options": [{"name": "help", "type": 1, "options": []}],
    }
    probe = interaction_to_inbound(payload)
    intake.answer = Acceptance(
        kind="replied",
        reply=Reply.from_text(
            probe.conversation(), "I answer questions about data files.", idempotency_key="k"
        ),
    )
    body = json.dumps(payload).encode()
    status, answer = await post(endpoint, body, signed(body))
    assert status == 200 and answer["type"] == 4
    assert answer["data"]["embeds"][0]["description"] == "I answer questions about data files."
    assert answer["data"]["allowed_mentions"] == {"parse": []}
    assert intake.inbounds[0].text == "help" and intake.inbounds[0].command == "nexus"
