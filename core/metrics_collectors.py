"""Metrics read when Prometheus scrapes: values that live outside this process's counters.

- :class:`BreakerStates`: ``nexus_llm_circuit_state{provider}`` from the router's
  breakers (0 closed, 1 half-open, 2 open), read from the breakers themselves so the
  gauge can never disagree with what the router does.
- :class:`QueueDepth`: ``nexus_queue_depth{queue}``; Redis is asynchronous and a
  collector is not, so the web app awaits :meth:`QueueDepth.refresh` before each scrape.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.errors import StorageError
from core.llm.circuit import BreakerState
from core.llm.router import LLMRouter
from core.logging import get_logger
from core.queue import JobQueue

log = get_logger("metrics")

BREAKER_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class BreakerStates(Collector):
    def __init__(self, router: LLMRouter) -> None:
        self._router = router

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "nexus_llm_circuit_state",
            "LLM provider circuit breaker: 0 closed, 1 half-open, 2 open.",
            labels=["provider"],
        )
        for name in self._router.provider_names:
            family.add_metric([name], BREAKER_VALUES[self._router.breaker(name).state])
        yield family


class QueueDepth:
    def __init__(self, queue: JobQueue, name: str, registry: CollectorRegistry) -> None:
        self._queue = queue
        self._gauge = Gauge(
            "nexus_queue_depth", "Jobs queued or running.", ["queue"], registry=registry
        ).labels(name)

    async def refresh(self) -> None:
        try:
            self._gauge.set(await self._queue.depth())
        except StorageError as exc:  # /readyz reports Redis; the scrape still answers
            log.warning("queue_depth_unavailable", error=str(exc))
