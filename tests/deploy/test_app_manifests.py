"""The Slack and Teams app manifests: valid, and consistent with what Nexus serves.

Teams: validated against Microsoft's v1.17 manifest schema (vendored from npm
``@microsoft/app-manifest``, see schemas/README.md). Slack: no package ships Slack's
manifest schema, so a structural schema written from Slack's reference is used.
Both manifests are templates: they are rendered with sample values first, the way
``envsubst`` renders them for an operator.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

import jsonschema
import pytest
import yaml
from deploy_support import ROOT, interpolate, load_schema

from core.settings import Settings

SAMPLE = {
    "NEXUS_PUBLIC_URL": "https://nexus.acme.test",
    "NEXUS_PUBLIC_HOST": "nexus.acme.test",
    "TEAMS_APP_ID": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
}
SLACK = ROOT / "manifests" / "slack-app-manifest.yaml"
TEAMS = ROOT / "manifests" / "teams"


def _render(text: str) -> str:
    rendered = interpolate(text, SAMPLE)
    assert "${" not in rendered
    return rendered


@pytest.fixture(scope="module")
def slack() -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load(_render(SLACK.read_text()))
    return manifest


@pytest.fixture(scope="module")
def teams() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(_render((TEAMS / "manifest.json").read_text()))
    return manifest


def test_slack_manifest_is_valid(slack: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(load_schema("slack-app-manifest.schema.json")).validate(slack)


def test_slack_schema_catches_mistakes(slack: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(load_schema("slack-app-manifest.schema.json"))
    broken = json.loads(json.dumps(slack))
    broken["settings"]["event_subscriptions"]["request_url"] = "http://insecure.test/slack"
    broken["features"]["slash_commands"][0]["command"] = "nexus"
    assert len(list(validator.iter_errors(broken))) == 2


def test_slack_manifest_matches_the_app(slack: dict[str, Any]) -> None:
    base = SAMPLE["NEXUS_PUBLIC_URL"]
    assert set(slack["oauth_config"]["scopes"]["bot"]) == set(
        Settings.model_fields["slack_scopes"].default.split(",")
    )
    assert set(slack["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "message.mpim",
    }
    assert slack["settings"]["event_subscriptions"]["request_url"] == f"{base}/slack/events"
    assert slack["settings"]["interactivity"]["request_url"] == f"{base}/slack/events"
    assert slack["oauth_config"]["redirect_urls"] == [f"{base}/slack/oauth_redirect"]
    (command,) = slack["features"]["slash_commands"]
    assert command["command"] == "/nexus"
    assert command["url"] == f"{base}/slack/events"
    assert slack["features"]["bot_user"]["display_name"]


def test_teams_manifest_is_valid(teams: dict[str, Any]) -> None:
    schema = load_schema("teams-manifest-v1.17.schema.json")
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    jsonschema.Draft4Validator(schema).validate(teams)


def test_teams_schema_catches_mistakes(teams: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(load_schema("teams-manifest-v1.17.schema.json"))
    broken = json.loads(json.dumps(teams))
    broken["bots"][0]["botId"] = "not-a-guid"
    broken["bots"][0]["scopes"] = ["everyone"]
    del broken["accentColor"]
    assert len(list(validator.iter_errors(broken))) >= 3


def test_teams_bot_is_nexus(teams: dict[str, Any]) -> None:
    (bot,) = teams["bots"]
    assert bot["botId"] == teams["id"] == SAMPLE["TEAMS_APP_ID"]
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is True
    assert teams["validDomains"] == [SAMPLE["NEXUS_PUBLIC_HOST"]]
    template = (TEAMS / "manifest.json").read_text()
    assert set(re.findall(r"\$\{([A-Z_]+)\}", template)) == set(SAMPLE)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_teams_icons_exist_with_the_required_sizes(teams: dict[str, Any]) -> None:
    assert _png_size((TEAMS / teams["icons"]["color"]).read_bytes()) == (192, 192)
    outline = (TEAMS / teams["icons"]["outline"]).read_bytes()
    assert _png_size(outline) == (32, 32)
    assert outline[25] == 6  # RGBA: the outline icon must be transparent
