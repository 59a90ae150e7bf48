"""Redis restarted mid-run, on a redis-server this test owns.

- With AOF (``appendfsync always``): questions acked before Redis is SIGKILLed are
  all still queued after it restarts, and each is answered exactly once.
- Without Redis: acks fail (500 on every platform), so the platform retries; once
  Redis is back — empty, nothing persisted — the retry is accepted and queued once.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from pathlib import Path

import pandas as pd
import pytest
from abuse_support import open_nexus, question
from conversation_stack import open_stack
from platforms import PLATFORMS
from private_redis import PrivateRedis
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

QUESTIONS = 4


async def reachable(client: Redis, within: float = 15.0) -> None:
    """Until the restarted server answers (the client reconnects on its own)."""
    async with asyncio.timeout(within):
        while True:
            try:
                await client.ping()
                return
            except (RedisConnectionError, OSError):
                await asyncio.sleep(0.05)


async def test_acked_questions_survive_a_redis_crash_with_aof(
    aof_redis: PrivateRedis, tmp_path: Path, tips_csv: bytes
) -> None:
    client = Redis.from_url(aof_redis.url)
    stack = await open_stack(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        redis_client=client,
        redis_url=aof_redis.url,
        prefix=f"nexus-test:{uuid.uuid4().hex[:12]}",
        data_dir=tmp_path / "data",
    )
    try:
        accepted = [
            await stack.upload("tips.csv", tips_csv, "how many rows are there", thread=f"t{n}")
            for n in range(QUESTIONS)
        ]
        assert [a.kind for a in accepted] == ["enqueued"] * QUESTIONS
        aof_redis.kill()  # no shutdown save: only the append-only file survives
        aof_redis.start()
        await reachable(client)
        await stack.start_worker()

        rows = len(pd.read_csv(io.BytesIO(tips_csv)))
        for acceptance in accepted:
            assert (await stack.answer(acceptance, within=60)).startswith(f"Number of rows: {rows}")
            assert await stack.finished(acceptance.job_id) == "succeeded"
        keys = [r.idempotency_key for r in stack.sender.replies]
        assert sorted(keys) == sorted(a.job_id for a in accepted)  # each exactly once
    finally:
        await stack.close()
        await client.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(PLATFORMS))
async def test_without_redis_the_ack_fails_and_the_retry_is_queued_once(
    plain_redis: PrivateRedis, tmp_path: Path, name: str
) -> None:
    platform = PLATFORMS[name]
    client = Redis.from_url(plain_redis.url)
    prefix = f"nexus-test:{uuid.uuid4().hex[:12]}"
    try:
        async with open_nexus(
            redis_url=plain_redis.url, redis=client, prefix=prefix, tmp_path=tmp_path
        ) as nexus:
            body = json.dumps(platform.build(question(1), nexus.ids)).encode()
            plain_redis.stop()
            assert await nexus.post(platform, body, platform.sign(body, None)) >= 500
            assert await nexus.alive()

            plain_redis.start()  # empty: nothing was persisted, nothing was claimed
            await reachable(client)
            # The platform's retry: the same event, signed again.
            accepted = platform.accepted_status
            assert await nexus.post(platform, body, platform.sign(body, None)) == accepted
            assert await nexus.post(platform, body, platform.sign(body, None)) == accepted
            assert await nexus.queued() == 1
    finally:
        await client.aclose()  # type: ignore[attr-defined]
