"""Forged, tampered, stale, missing and replayed signatures on every platform.

Each case is a request a third party (or a replaying middlebox) could send to the
public endpoint. Forged ones are refused with 401 before anything is recorded:
no job, no reaction, no reply. A captured valid request replayed inside the signature
window is acked (the platform itself redelivers that way) but queued once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from abuse_support import Nexus, question
from platforms import PLATFORMS, Platform

Forgery = Callable[[Platform, bytes, dict[str, str]], tuple[bytes, dict[str, str]]]


def tampered_body(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    return body.replace(b"average tip", b"drop a table"), headers


def stale(platform: Platform, body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    # Signed correctly, but six minutes ago: outside the 5-minute window.
    return body, platform.sign(body, int(time.time()) - 360)


def from_the_future(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    return body, platform.sign(body, int(time.time()) + 360)


def unsigned(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    return body, {"Content-Type": "application/json"}


def wrong_key(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    # Same shape of signature, made with another secret/key: flip one hex digit.
    forged = {}
    for name, value in headers.items():
        if "signature" in name.lower() and "timestamp" not in name.lower():
            last = value[-1]
            value = value[:-1] + ("0" if last != "0" else "1")
        forged[name] = value
    return body, forged


def garbage_signature(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    forged = {k: ("v0=zz" if "signature" in k.lower() and "timestamp" not in k.lower() else v)
              for k, v in headers.items()}  # fmt: skip
    forged = {k: ("not-a-number" if "timestamp" in k.lower() else v) for k, v in forged.items()}
    return body, forged


FORGERIES = [tampered_body, stale, from_the_future, unsigned, wrong_key, garbage_signature]


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_forged_requests_are_refused_and_leave_no_trace(nexus: Nexus, name: str) -> None:
    platform = PLATFORMS[name]
    for n, forge in enumerate(FORGERIES):
        body = json.dumps(platform.build(question(n), nexus.ids)).encode()
        forged_body, headers = forge(platform, body, platform.sign(body, None))
        status = await nexus.post(platform, forged_body, headers)
        assert status == 401, (forge.__name__, status)
    assert await nexus.queued() == 0
    # Nothing reached the adapter's after-ack work either: no reaction, no reply.
    assert nexus.slack.calls_to("reactions.add") == [] and nexus.slack.messages == []
    assert nexus.discord.requests == []
    assert await nexus.alive()


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_a_replayed_request_is_queued_once(nexus: Nexus, name: str) -> None:
    platform = PLATFORMS[name]
    body = json.dumps(platform.build(question(1), nexus.ids)).encode()
    headers = platform.sign(body, None)
    statuses = [await nexus.post(platform, body, headers) for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert await nexus.queued() == 1
    # The same bytes replayed once the window has passed are refused outright.
    assert await nexus.post(platform, body, platform.sign(body, int(time.time()) - 301)) == 401
    assert await nexus.queued() == 1
