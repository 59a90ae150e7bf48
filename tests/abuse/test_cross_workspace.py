"""Cross-workspace access attempts over the real endpoints: a member of one workspace
names another workspace's data, threads and jobs, and gets none of it.

Same channel and thread ids in two workspaces, a file in one: a question from the
other is queued in its own workspace only, with no file; a Discord interaction that
claims another guild's id is filed under that guild (Discord signs the guild id, so
the claim is Discord's), never merged with the first; ``stop`` from the other
workspace cannot reach the first workspace's queued job.
"""

from __future__ import annotations

import json

from abuse_support import Nexus, question
from platforms import PLATFORMS, SLACK_TEAM


async def test_a_question_from_another_workspace_sees_nothing_of_the_first(
    nexus: Nexus, tips_csv: bytes
) -> None:
    slack = PLATFORMS["slack"]
    team = next(iter(nexus.slack.teams.values()))
    file = nexus.slack.add_file(team, "tips.csv", tips_csv)
    mine = slack.build(question(1), nexus.ids)
    mine["event"]["files"] = [file]
    theirs = slack.build(question(2), nexus.ids)
    theirs["team_id"] = theirs["event"]["team"] = "TOTHER"  # same channel and thread ids
    theirs["authorizations"][0]["team_id"] = "TOTHER"
    for payload in (mine, theirs):
        body = json.dumps(payload).encode()
        assert await nexus.post(slack, body, slack.sign(body, None)) == 200

    queued = {r.inbound.workspace: r for r in await nexus.queued_requests()}
    assert queued[f"slack:{SLACK_TEAM}"].inbound.files  # the file stays in its workspace
    other = queued.get("slack:TOTHER")
    # Either not served at all (no installation for TOTHER) or served without the file.
    assert other is None or other.inbound.files == []
    assert len(queued) in (1, 2)


async def test_stop_from_another_workspace_cannot_reach_a_queued_job(nexus: Nexus) -> None:
    discord = PLATFORMS["discord"]
    ask = discord.build(question(1), nexus.ids)
    body = json.dumps(ask).encode()
    assert await nexus.post(discord, body, discord.sign(body, None)) == 200
    assert await nexus.queued() == 1

    stop = discord.build(question(2, text="stop"), nexus.ids)
    stop["guild_id"] = "999000000000000009"  # same channel and thread, other guild
    stop["data"]["name"] = "nexus"
    body = json.dumps(stop).encode()
    assert await nexus.post(discord, body, discord.sign(body, None)) == 200
    (still_queued,) = await nexus.queued_requests()
    assert still_queued.inbound.workspace == discord.workspace
    assert await nexus.queued() == 1
