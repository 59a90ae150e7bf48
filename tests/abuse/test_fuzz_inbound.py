"""Fuzzing every inbound payload parser through its real endpoint: correctly signed
but damaged payloads (fields of the wrong type, missing, or another document
altogether) must be answered — 2xx or a 4xx refusal — never a 500, which the
platform would retry as if Nexus were down; and the server keeps serving.

Each example goes through the whole path a platform request takes: signature
check, parsing, conversion to an ``Inbound``, the real conversation manager. For
Teams the signature is the channel's token for the ``serviceUrl`` the damaged
activity names (what the channel vouches for is what it sent), so a damaged
``serviceUrl`` is checked, authenticated, and answered at that URL like any other.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from abuse_support import Nexus, question
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payload_mutation import damaged
from platforms import PLATFORMS

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANSWERED = {200, 201, 400, 401, 404}


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_damaged_signed_payloads_are_answered_not_crashed(nexus: Nexus, name: str) -> None:
    platform = PLATFORMS[name]
    valid = platform.build(question(1), nexus.ids)
    statuses: list[int] = []

    @FUZZ
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        examples.append(data.draw(damaged(valid)))

    examples: list[Any] = []
    collect()
    for n, payload in enumerate(examples):
        body = json.dumps(payload).encode()
        status = await nexus.post(platform, body, platform.sign(body, None))
        statuses.append(status)
        assert status in ANSWERED, f"example {n}: {status} for {json.dumps(payload)}"
    assert await nexus.alive()
    # Some damage leaves a valid request: the fuzzing reached the core.
    assert platform.accepted_status in statuses
