"""Regressions found by fuzzing Teams' endpoint with channel-signed, damaged activities
(``test_fuzz_inbound.py``): each was a 500, which the Bot Framework retries as if
Nexus were down.

- a field of the wrong type (``entities`` an object) broke the SDK's deserializer;
- an answer posted within the turn (a command, help for an empty message) that the
  connector refused — here a scripted 400, in the fuzzing an unusable conversation
  id — failed the ack, though the event was already claimed: Teams' resend would be
  dropped as a duplicate, so the 500 bought nothing.
"""

from __future__ import annotations

import json
from typing import Any

from abuse_support import Nexus, question
from platforms import PLATFORMS

TEAMS = PLATFORMS["teams"]


async def post(nexus: Nexus, activity: dict[str, Any]) -> int:
    body = json.dumps(activity).encode()
    return await nexus.post(TEAMS, body, TEAMS.sign(body, None))


async def test_a_field_of_the_wrong_type_is_refused_as_a_bad_request(nexus: Nexus) -> None:
    activity = TEAMS.build(question(1), nexus.ids)
    activity["entities"] = {"type": "mention"}  # a list in every real activity
    assert await post(nexus, activity) == 400
    assert await nexus.queued() == 0
    assert nexus.connector.posted == []
    activity["entities"] = []  # the control: the same activity, well formed
    assert await post(nexus, activity) == TEAMS.accepted_status
    assert await nexus.queued() == 1


async def test_an_answer_the_connector_refuses_does_not_fail_the_ack(nexus: Nexus) -> None:
    nexus.connector.failures.append((400, {}))
    command = TEAMS.build(question(1, text="help"), nexus.ids)
    assert await post(nexus, command) == TEAMS.accepted_status
    assert nexus.connector.message_attempts == 1 and nexus.connector.posted == []
    # Teams' resend is a duplicate: acked, not answered again.
    assert await post(nexus, command) == TEAMS.accepted_status
    assert nexus.connector.message_attempts == 1
    # The connector is back: the next command is answered in the turn.
    again = TEAMS.build(question(2, text="help"), nexus.ids)
    assert await post(nexus, again) == TEAMS.accepted_status
    (answer,) = nexus.connector.posted
    assert answer.reply_to == again["id"] and "datasets" in answer.body["text"]
    assert await nexus.queued() == 0


async def test_a_conversation_id_that_is_not_a_string_is_answered_not_crashed(
    nexus: Nexus,
) -> None:
    empty = TEAMS.build(question(1, text=""), nexus.ids)  # an empty message gets help
    empty["conversation"]["id"] = {"not": ["a", "string"]}
    assert await post(nexus, empty) in {TEAMS.accepted_status, 400}
    assert await nexus.alive()
