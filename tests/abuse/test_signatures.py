"""Forged, tampered, stale, missing and replayed signatures on every platform.

Each case is a request a third party (or a replaying middlebox) could send to the
public endpoint. Forged ones are refused with 401 before anything is recorded:
no job, no reaction, no reply, no typing indicator. A captured valid request
replayed inside the signature window is acked (the platform itself redelivers that
way) but queued once.

Every forgery means something on every platform. Slack and Discord sign the body
with a timestamp; Teams sends a channel-signed JWT that does not cover the body but
names the service URL replies go to, so for Teams "tampered body" is an activity
whose ``serviceUrl`` was redirected under a captured token, "stale" an expired
token, "another app's" a token for another bot. Teams has claims of its own to
forge besides (issuer, ``alg``), in :data:`TEAMS_ONLY`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import jwt
import pytest
from abuse_support import Nexus, question
from cryptography.hazmat.primitives.asymmetric import rsa
from nacl.signing import SigningKey
from platforms import PLATFORMS, Platform
from slack_payloads import sign as slack_sign
from teams_platform import bearer, service_url_of, teams_token

Forgery = Callable[[Platform, bytes, dict[str, str]], tuple[bytes, dict[str, str]]]
ATTACKER_URL = "https://attacker.example.com/"


def _teams(platform: Platform) -> bool:
    return platform.name == "teams"


def tampered_body(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    if _teams(platform):  # the captured token, replies redirected to the attacker
        url = service_url_of(body)
        assert url is not None
        return body.replace(json.dumps(url).encode(), json.dumps(ATTACKER_URL).encode()), headers
    return body.replace(b"average tip", b"drop a table"), headers


def stale(platform: Platform, body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    # Signed correctly, but a minute past what the platform accepts (Teams: expired).
    return body, platform.sign(body, int(time.time()) - platform.valid_for - 60)


def from_the_future(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    # Six minutes ahead: beyond the 5-minute skew (Teams: not valid before then).
    return body, platform.sign(body, int(time.time()) + 360)


def unsigned(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    return body, {"Content-Type": "application/json"}


def wrong_key(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    if _teams(platform):  # another RSA key under the channel's key id
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return body, bearer(teams_token(service_url_of(body), key=other))
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
    if _teams(platform):
        return body, bearer("not.a.jwt")
    forged = {k: ("v0=zz" if "signature" in k.lower() and "timestamp" not in k.lower() else v)
              for k, v in headers.items()}  # fmt: skip
    forged = {k: ("not-a-number" if "timestamp" in k.lower() else v) for k, v in forged.items()}
    return body, forged


def another_apps_signature(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    """Validly signed, but for another app: its secret, its key, its audience."""
    if _teams(platform):
        return body, bearer(teams_token(service_url_of(body), aud="another-bot-app-id"))
    if platform.name == "slack":
        signed = slack_sign(body.decode(), secret="another-apps-signing-secret")
        return body, {"Content-Type": "application/json", **signed}
    stamp = str(int(time.time()))
    other = SigningKey(b"another-discord-application-key!")
    signature = other.sign(stamp.encode() + body).signature.hex()
    return body, {**headers, "X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp}


def wrong_issuer(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    return body, bearer(teams_token(service_url_of(body), iss="https://attacker.example.com"))


def no_service_url_claim(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    return body, bearer(teams_token(service_url_of(body), serviceurl=None))


def unsigned_jwt(
    platform: Platform, body: bytes, headers: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    # ``alg: none``: the right claims, no signature at all.
    claims = jwt.decode(teams_token(service_url_of(body)), options={"verify_signature": False})
    return body, bearer(jwt.encode(claims, key="", algorithm="none"))


FORGERIES: list[Forgery] = [
    tampered_body, stale, from_the_future, unsigned, wrong_key, garbage_signature,
    another_apps_signature,
]  # fmt: skip
TEAMS_ONLY: list[Forgery] = [wrong_issuer, no_service_url_claim, unsigned_jwt]


def forgeries(platform: Platform) -> list[Forgery]:
    return FORGERIES + (TEAMS_ONLY if _teams(platform) else [])


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_forged_requests_are_refused_and_leave_no_trace(nexus: Nexus, name: str) -> None:
    platform = PLATFORMS[name]
    for n, forge in enumerate(forgeries(platform)):
        body = json.dumps(platform.build(question(n), nexus.ids)).encode()
        forged_body, headers = forge(platform, body, platform.sign(body, None))
        assert (forged_body, headers) != (body, platform.sign(body, None)), forge.__name__
        status = await nexus.post(platform, forged_body, headers)
        assert status == 401, (forge.__name__, status)
    assert await nexus.queued() == 0
    # Nothing reached the adapter's after-ack work either: no reaction, reply or typing.
    assert nexus.slack.calls_to("reactions.add") == [] and nexus.slack.messages == []
    assert nexus.discord.requests == []
    assert nexus.connector.posted == []
    assert await nexus.alive()
    # The same request, signed as the platform signs it, is accepted: the 401s above
    # came from the forgery, not from a request the endpoint refuses anyway.
    body = json.dumps(platform.build(question(99), nexus.ids)).encode()
    assert await nexus.post(platform, body, platform.sign(body, None)) == platform.accepted_status
    assert await nexus.queued() == 1


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_a_replayed_request_is_queued_once(nexus: Nexus, name: str) -> None:
    platform = PLATFORMS[name]
    body = json.dumps(platform.build(question(1), nexus.ids)).encode()
    headers = platform.sign(body, None)
    statuses = [await nexus.post(platform, body, headers) for _ in range(3)]
    assert statuses == [platform.accepted_status] * 3
    assert await nexus.queued() == 1
    # The same bytes replayed once the window has passed are refused outright.
    expired = platform.sign(body, int(time.time()) - platform.valid_for - 1)
    assert await nexus.post(platform, body, expired) == 401
    assert await nexus.queued() == 1
