"""Bodies built to hurt: far too large, absurdly nested, and commands full of unicode
and control characters, on every platform's endpoint.

Oversized and deeply nested bodies are refused with a 4xx (never a 500 the
platform would retry, never a stuck or dead server). Hostile text in a correctly
signed question is accepted like any other text: it reaches the queue intact.
"""

from __future__ import annotations

import json

import pytest
from abuse_support import Nexus, question
from hypothesis import given, settings
from hypothesis import strategies as st
from platforms import PLATFORMS

HOSTILE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=200
).filter(lambda text: text.strip() != "")
CONTROL_HEAVY = st.text(
    alphabet=st.sampled_from("\x00\x07\x1b[31m\u202e\u200b\ufeff\r\n\t`*_<@>&|"), max_size=60
).filter(lambda text: text.strip() != "")


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_an_oversized_body_is_refused(nexus: Nexus, name: str) -> None:
    platform = PLATFORMS[name]
    payload = platform.build(question(1), nexus.ids)
    payload["padding"] = "x" * (17 * 1024 * 1024)  # over the app's 16 MiB request limit
    body = json.dumps(payload).encode()
    status = await nexus.post(platform, body, platform.sign(body, None))
    assert 400 <= status < 500, status
    assert await nexus.queued() == 0
    assert await nexus.alive()


@pytest.mark.parametrize("name", sorted(PLATFORMS))
@pytest.mark.parametrize("depth", [50, 200_000])
async def test_deeply_nested_json_is_refused(nexus: Nexus, name: str, depth: int) -> None:
    platform = PLATFORMS[name]
    payload = platform.build(question(1), nexus.ids)
    head, tail = json.dumps(payload)[:-1], "}"
    body = f'{head}, "nest": {"[" * depth}{"]" * depth}{tail}'.encode()
    signed = await nexus.post(platform, body, platform.sign(body, None))
    unsigned = await nexus.post(platform, body, {"Content-Type": "application/json"})
    # Shallow nesting is valid JSON and an ordinary request; deep nesting is a 4xx.
    assert signed in ({platform.accepted_status} if depth == 50 else {400, 413}), signed
    assert 400 <= unsigned < 500, unsigned
    assert await nexus.alive()


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_unicode_and_control_characters_reach_the_queue_intact(
    nexus: Nexus, name: str
) -> None:
    platform = PLATFORMS[name]
    texts: list[str] = []

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(HOSTILE | CONTROL_HEAVY)
    def collect(text: str) -> None:
        texts.append(text)

    collect()
    for n, text in enumerate(texts, start=1):
        payload = platform.build(question(n, text=f"average tip {text}"), nexus.ids)
        body = json.dumps(payload).encode()
        status = await nexus.post(platform, body, platform.sign(body, None))
        assert status == platform.accepted_status, (repr(text), status)
    queued = await nexus.queued_requests()
    assert len(queued) == len(texts)
    # Mention syntax aside (<@…>, &, whitespace), the characters arrive unchanged.
    by_message = sorted(queued, key=lambda request: request.inbound.received_at)
    for text, request in zip(texts, by_message, strict=True):
        kept = set(text) - set("<>&@") - {c for c in text if c.isspace()}
        assert kept <= set(request.inbound.text), (repr(text), request.inbound.text)
    assert await nexus.alive()
