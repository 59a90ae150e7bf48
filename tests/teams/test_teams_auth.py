"""Inbound auth against the real botbuilder validation and a local OpenID/JWKS served
from another thread: every bad token is a 401 and enqueues nothing; a good one is a
201 and enqueues one job (so the "nothing enqueued" checks can fail)."""

from __future__ import annotations

import time

import pytest
import teams_activities as activities
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_bot_framework import FakeChannelAuth, FakeConnector
from teams_harness import StartNexus

QUESTION = "how many rows are there"


def _bad_tokens(channel: FakeChannelAuth, service_url: str) -> dict[str, dict[str, str]]:
    now = int(time.time())
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "missing": {},
        "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        "garbage": {"Authorization": "Bearer not.a.jwt"},
        # 5 minutes of leeway are allowed; an hour is not.
        "expired": channel.header(service_url, nbf=now - 7200, exp=now - 3600),
        "wrong issuer": channel.header(service_url, iss="https://attacker.example.com"),
        "wrong audience": channel.header(service_url, aud="some-other-bot"),
        "no audience": channel.header(service_url, aud=None),
        "wrong serviceUrl": channel.header("https://smba.trafficmanager.net/evil/"),
        "no serviceUrl": channel.header(service_url, serviceurl=None),
        "wrong key": channel.header(service_url, key=other_key),
    }


async def test_bad_tokens_are_rejected_and_enqueue_nothing(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    nexus = await start_nexus()
    service_url = connector.service_url
    for name, headers in _bad_tokens(channel_auth, service_url).items():
        activity = activities.message(service_url, text=QUESTION)
        assert await nexus.post(activity, headers) == 401, name
    assert await nexus.queued_jobs() == 0
    assert connector.posted == []  # not even a typing indicator

    good = activities.message(service_url, text=QUESTION)
    assert await nexus.post(good, channel_auth.header(service_url)) == 201
    assert await nexus.queued_jobs() == 1
    assert channel_auth.metadata_requests >= 1  # keys really came from the fake OpenID


async def test_malformed_requests_are_refused_before_auth(
    start_nexus: StartNexus, connector: FakeConnector
) -> None:
    nexus = await start_nexus()
    async with nexus.session.post(
        f"{nexus.url}/api/messages", data="{}", headers={"Content-Type": "text/plain"}
    ) as resp:
        assert resp.status == 415
    assert await nexus.post("{not json") == 400
    assert await nexus.post({"text": "no type"}) == 400
    assert await nexus.queued_jobs() == 0


async def test_missing_credentials_do_not_disable_auth(
    start_nexus: StartNexus, connector: FakeConnector
) -> None:
    """No TEAMS_APP_ID and no dev mode: Teams is simply not mounted (404), never open."""
    nexus = await start_nexus(authenticated=False)
    assert not nexus.plugin.configured
    assert "not configured" in nexus.plugin.status
    unsigned = activities.message(connector.service_url, text=QUESTION)
    assert await nexus.post(unsigned) == 404
    assert await nexus.queued_jobs() == 0


@pytest.mark.parametrize("password", [None, ""])
async def test_app_id_without_password_is_not_configured(
    start_nexus: StartNexus, connector: FakeConnector, password: str | None
) -> None:
    nexus = await start_nexus(teams_app_password=password)
    assert not nexus.plugin.configured
    assert await nexus.post(activities.message(connector.service_url, text=QUESTION)) == 404


async def test_dev_mode_accepts_unsigned_activities_only_without_an_app_id(
    start_nexus: StartNexus, channel_auth: FakeChannelAuth, connector: FakeConnector
) -> None:
    connector.token = None  # no credentials in dev mode, so no bearer on posts
    dev = await start_nexus(authenticated=False, teams_dev_mode=True)
    assert "DEVELOPMENT MODE" in dev.plugin.status
    assert await dev.post(activities.message(connector.service_url, text=QUESTION)) == 201
    assert await dev.queued_jobs() == 1
    # A command's answer, posted in the turn, goes out without a bearer (nothing to sign).
    assert await dev.post(activities.message(connector.service_url, text="help")) == 201
    (answer,) = await connector.wait_for(1)
    assert answer.authorization is None


async def test_dev_mode_with_an_app_id_keeps_auth_on(
    start_nexus: StartNexus, connector: FakeConnector
) -> None:
    nexus = await start_nexus(teams_dev_mode=True)
    assert "DEVELOPMENT" not in nexus.plugin.status
    assert await nexus.post(activities.message(connector.service_url, text=QUESTION)) == 401
    assert await nexus.queued_jobs() == 0
