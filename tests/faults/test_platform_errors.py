"""A platform API answering 429 and 5xx while the answer is posted: the answer still
arrives, exactly once (no lost question, no duplicate reply).

The whole path runs: a signed request → the real adapter → the conversation manager
→ an in-process ARQ worker → the real Slack / Discord SDK posting into a fake that
fails first. Answers are checked against pandas on the same file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
from abuse_support import open_nexus
from failing_fakes import FailingDiscord, FailingSlack
from platforms import PLATFORMS, SLACK_TEAM, Question
from redis.asyncio import Redis

QUESTION = "how many rows are there"


def rows(csv: bytes) -> int:
    return len(pd.read_csv(io.BytesIO(csv)))


async def test_slack_429_and_503_on_the_answer_still_answer_once(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path, tips_csv: bytes
) -> None:
    fake = FailingSlack()
    fake.script["chat.postMessage"] = [503, 429]
    async with open_nexus(
        redis_url=redis_url, redis=redis_client, prefix=redis_prefix, tmp_path=tmp_path,
        mode="dev", slack=fake, job_retry_backoff_seconds=0.1, worker_poll_delay_seconds=0.05,
    ) as nexus:  # fmt: skip
        team = next(iter(fake.teams.values()))
        assert team.id == SLACK_TEAM
        file = fake.add_file(team, "tips.csv", tips_csv)
        thread = "1690000000.000100"
        q = Question(1, "faults", thread, QUESTION, file=None)
        payload = PLATFORMS["slack"].build(q, nexus.ids)
        payload["event"]["files"] = [file]
        body = json.dumps(payload).encode()
        slack = PLATFORMS["slack"]
        # A slow ack (this machine is shared) is a 500 that Slack retries: do as Slack.
        statuses = [await nexus.post(slack, body, slack.sign(body, None)) for _ in range(3)]
        assert 200 in statuses, statuses

        def answers() -> list[str]:
            return [
                m["text"] for m in fake.thread("CLOAD", thread) if "Number of rows" in m["text"]
            ]

        await fake.wait_until(lambda: bool(answers()), within=60)
        assert fake.served_failures == 2
        (answer,) = answers()
        assert f"Number of rows: {rows(tips_csv)}" in answer


async def test_discord_500_and_429_on_the_answer_still_answer_once(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path, tips_csv: bytes
) -> None:
    fake = FailingDiscord()
    async with open_nexus(
        redis_url=redis_url, redis=redis_client, prefix=redis_prefix, tmp_path=tmp_path,
        mode="dev", fake_discord=fake, job_retry_backoff_seconds=0.1,
        worker_poll_delay_seconds=0.05,
    ) as nexus:  # fmt: skip
        fake.script += [
            ("PATCH", "/messages/@original", 500),
            ("PATCH", "/messages/@original", 429),
        ]
        url = fake.host_file("tips.csv", tips_csv)
        q = Question(1, "faults", "800000000000000011", QUESTION,
                     file={"url": url, "size": len(tips_csv)})  # fmt: skip
        body = json.dumps(PLATFORMS["discord"].build(q, nexus.ids)).encode()
        discord = PLATFORMS["discord"]
        assert await nexus.post(discord, body, discord.sign(body, None)) == 200

        def answers() -> list[str]:
            return [
                json.dumps(r.json) for r in fake.of("PATCH", "/messages/@original")
                if r.json and "Number of rows" in json.dumps(r.json)
            ]  # fmt: skip

        try:
            await fake.wait_for(lambda: len(answers()) >= 1, within=60)
        except TimeoutError:
            raise AssertionError([(r.method, r.path, r.json) for r in fake.requests]) from None
        assert fake.served_failures == 2
        # The failures (which the fake does not record) hit the progress edit and the
        # answer; the answer was retried and arrived once.
        assert len(answers()) == 1
        assert f"Number of rows: {rows(tips_csv)}" in answers()[-1]
