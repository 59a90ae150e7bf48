"""Outbound SDK clients are built once per (app, service URL, audience), not per turn,
on the real parameterized Bot Framework authentication that ``build_auth`` makes."""

from __future__ import annotations

from pathlib import Path

import pytest
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity
from fake_bot_framework import FakeChannelAuth, StaticTokenCredentials
from teams_harness import teams_settings

from adapters.teams.auth import build_auth

SCOPE = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE


async def test_connector_and_token_clients_are_reused(
    channel_auth: FakeChannelAuth, tmp_path: Path, redis_url: str
) -> None:
    settings = teams_settings(channel_auth, redis_url=redis_url, prefix="unused", tmp_path=tmp_path)
    auth = build_auth(settings, credentials=StaticTokenCredentials())
    authentication = auth.authentication
    claims = ClaimsIdentity({"aud": auth.app_id, "appid": auth.app_id, "ver": "1.0"}, True)
    other_app = ClaimsIdentity({"aud": "another-app", "appid": "another-app", "ver": "1.0"}, True)
    emea, amer = "https://smba.example.net/emea/", "https://smba.example.net/amer/"

    first = await authentication.create_connector_factory(claims).create(emea, SCOPE)
    again = await authentication.create_connector_factory(claims).create(emea, SCOPE)
    elsewhere = await authentication.create_connector_factory(claims).create(amer, SCOPE)

    assert again is first
    assert elsewhere is not first and elsewhere.config.base_url == amer
    with pytest.raises(PermissionError):  # the cache never bypasses the SDK's app-id check
        await authentication.create_connector_factory(other_app).create(emea, SCOPE)
    tokens = await authentication.create_user_token_client(claims)
    assert await authentication.create_user_token_client(claims) is tokens
