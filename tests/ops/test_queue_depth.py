"""``nexus_queue_depth`` counts the jobs waiting in the real ARQ queue in Redis."""

from __future__ import annotations

import uuid

from prometheus_client import CollectorRegistry

from adapters.testing import make_inbound
from core.metrics_collectors import QueueDepth
from core.queue import ArqQueue, JobRequest, arq_redis, job_id_for


async def test_depth_follows_the_queue(redis_url: str) -> None:
    name = f"nexus-test:{uuid.uuid4().hex[:12]}:queue"
    queue = ArqQueue(arq_redis(redis_url, queue_name=name), queue_name=name)
    registry = CollectorRegistry()
    depth = QueueDepth(queue, name, registry)
    try:
        await depth.refresh()
        assert registry.get_sample_value("nexus_queue_depth", {"queue": name}) == 0
        for n in range(3):
            inbound = make_inbound("<@UBOT> average tip by day", message_id=f"m-{n}")
            request = JobRequest(kind="answer_question", inbound=inbound, question="q")
            assert await queue.enqueue(request, job_id_for(inbound, prefix=name))
        await depth.refresh()
        assert registry.get_sample_value("nexus_queue_depth", {"queue": name}) == 3
    finally:
        redis = arq_redis(redis_url, queue_name=name)
        keys = [key async for key in redis.scan_iter(match=f"{name}*")]
        keys += [key async for key in redis.scan_iter(match="arq:job:" + name + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()  # type: ignore[attr-defined]
        await queue.close()
