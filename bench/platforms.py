"""The platforms Nexus serves, as one table: how to build a question, how to sign it,
where to post it, and how to tell its answer apart on the platform's fake server.

Used by ``bench/load.py`` (whose load generator runs in its own process and needs
only the pure half: payloads and signatures) and by ``tests/abuse`` and
``tests/faults`` (forged and replayed signatures on every platform). Adding a
platform is adding one :class:`Platform` to :data:`PLATFORMS`.

Payload shapes are the tests' own builders (``tests/slack/slack_payloads.py``,
``tests/discord/discord_helpers.py``, ``tests/teams/teams_activities.py``), reused
here rather than copied; Teams' part (a channel-signed JWT) is in ``teams_platform``.
"""

from __future__ import annotations

import json
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _helpers in ("tests/slack", "tests/discord", "tests/teams"):
    if str(REPO / _helpers) not in sys.path:
        sys.path.insert(0, str(REPO / _helpers))

import slack_payloads  # noqa: E402
from discord_helpers import ask_payload  # noqa: E402
from fake_discord import snowflake  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402
from teams_platform import (  # noqa: E402
    CLOCK_LEEWAY,
    TEAMS_TENANT,
    TOKEN_LIFETIME,
    sign_teams,
    teams_question,
)

SLACK_SECRET = slack_payloads.SIGNING_SECRET
SLACK_TEAM = "TLOAD"
SLACK_CHANNEL = "CLOAD"
DISCORD_GUILD = "777000000000000001"
DISCORD_PARENT = "444444444444444444"
# A fixed seed: the generator process and the server's settings must agree on the key.
DISCORD_KEY = SigningKey(b"nexus-load-bench-discord-key-32b")
DISCORD_PUBLIC_KEY = DISCORD_KEY.verify_key.encode().hex()
UNLIMITED = {"analyses_per_day": 0, "requests_per_user_per_minute": 0}
"""Workspace quota settings under which every event takes the full accept path."""


@dataclass(frozen=True)
class Question:
    """One question to send: ``thread`` names its conversation (a Slack thread ts, a
    Discord thread channel id); ``file`` is a hosted file object/URL or None."""

    n: int
    run: str
    thread: str
    text: str
    file: dict[str, Any] | None = None


@dataclass(frozen=True)
class Platform:
    name: str
    path: str
    """Where the platform posts its events on ``nexus serve``."""
    workspace: str
    """The workspace key Nexus files these events under."""
    build: Callable[[Question, dict[str, str]], dict[str, Any]]
    """The event payload for a question; the dict holds ids the fake issued (bot user)."""
    sign: Callable[[bytes, int | None], dict[str, str]]
    """Headers for a body, signed now or at a given epoch second (to forge stale ones)."""
    accepted_status: int = 200
    """What the endpoint answers an acked event (the Bot Framework's is 201 Created)."""
    valid_for: int = 300
    """Seconds after its signing instant a signature is still accepted (Slack: the
    5-minute replay window; a Teams token: its lifetime plus botbuilder's leeway)."""


def sign_slack(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    headers = slack_payloads.sign(body.decode(), timestamp=timestamp)
    return {"Content-Type": "application/json", **headers}


def sign_discord(body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = DISCORD_KEY.sign(stamp.encode() + body).signature.hex()
    return {
        "Content-Type": "application/json",
        "X-Signature-Ed25519": signature,
        "X-Signature-Timestamp": stamp,
    }


def slack_question(q: Question, ids: dict[str, str]) -> dict[str, Any]:
    """An ``app_mention`` in thread ``q.thread``, with the file when ``q.file`` is set
    (a bare file share is only remembered for the thread's next mention)."""
    ts = slack_ts(q)
    event_id = f"Ev{q.run}{q.n}"
    user = f"U{q.n % 50}"
    return slack_payloads.app_mention(
        SLACK_TEAM, ids["slack_bot"], channel=SLACK_CHANNEL, ts=ts, thread_ts=q.thread,
        text=q.text, event_id=event_id, user=user, files=[q.file] if q.file else None,
    )  # fmt: skip


def discord_question(q: Question, ids: dict[str, str]) -> dict[str, Any]:
    """A ``/ask`` interaction in thread channel ``q.thread``; its token is unique, so the
    answer (a PATCH of ``@original`` under that token) names its question."""
    fake = SimpleNamespace(application_id=ids["discord_app"])
    thread = {"id": q.thread, "type": 11, "parent_id": DISCORD_PARENT, "guild_id": DISCORD_GUILD}
    url = q.file["url"] if q.file else None
    size = q.file["size"] if q.file else 0
    payload = ask_payload(
        fake,  # type: ignore[arg-type]
        question=q.text, file_url=url, file_size=size, guild_id=DISCORD_GUILD,
        interaction_id=snowflake(seq=q.n), token=discord_token(q), channel=thread,
    )  # fmt: skip
    payload["channel_id"] = q.thread
    return payload


def slack_ts(q: Question) -> str:
    """The question's own message ts (unique per run and number)."""
    return f"{1_700_000_000 + q.n}.{zlib.crc32(q.run.encode()) % 1_000_000:06d}"


def discord_token(q: Question) -> str:
    return f"tok-{q.run}-{q.n}"


PLATFORMS: dict[str, Platform] = {
    "slack": Platform("slack", "/slack/events", f"slack:{SLACK_TEAM}", slack_question, sign_slack),
    "discord": Platform(
        "discord",
        "/discord/interactions",
        f"discord:{DISCORD_GUILD}",
        discord_question,
        sign_discord,
    ),
    "teams": Platform(
        "teams",
        "/api/messages",
        f"teams:{TEAMS_TENANT}",
        teams_question,
        sign_teams,
        accepted_status=201,
        valid_for=TOKEN_LIFETIME + CLOCK_LEEWAY,
    ),
}


def signed_request(
    platform: Platform, q: Question, ids: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(platform.build(q, ids)).encode()
    return body, platform.sign(body, None)
