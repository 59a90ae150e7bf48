"""Prometheus metrics of one process, on a registry passed in (no globals).

The web process serves its registry at ``/metrics``; each ``nexus worker`` serves its
own on ``NEXUS_WORKER_METRICS_PORT`` (``nexus dev`` runs both on one registry). The
series and their labels are listed for operators in ``docs/operations.md``.

Values that live elsewhere (queue depth in Redis, circuit breakers in the router) are
read at scrape time by the collectors in :mod:`core.metrics_collectors`.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)
_RENDER_BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class NexusMetrics:
    """Counters and histograms of one process (web, worker, or both in ``nexus dev``)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._define_ingress()
        self._define_jobs()
        self._define_llm()

    def _counter(self, name: str, doc: str, labels: list[str]) -> Counter:
        return Counter(name, doc, labels, registry=self.registry)

    def _histogram(
        self, name: str, doc: str, labels: list[str], buckets: tuple[float, ...]
    ) -> Histogram:
        return Histogram(name, doc, labels, buckets=buckets, registry=self.registry)

    def _define_ingress(self) -> None:
        self.events = self._counter(
            "nexus_events_total",
            "Inbound events by what the conversation manager did with them.",
            ["platform", "outcome"],
        )
        self.events_rejected = self._counter(
            "nexus_events_rejected_total",
            "Platform requests answered non-2xx (the platform retries or drops them).",
            ["platform", "reason"],
        )
        self.ack_seconds = self._histogram(
            "nexus_ack_seconds",
            "Platform request received to response sent.",
            ["platform"],
            _LATENCY_BUCKETS,
        )
        self.accept_seconds = self._histogram(
            "nexus_accept_seconds",
            "Time to dedupe, check, record and enqueue one inbound event.",
            [],
            _LATENCY_BUCKETS,
        )
        self.quota_refusals = self._counter(
            "nexus_quota_refusals_total", "Questions refused by a quota.", ["limit"]
        )

    def _define_jobs(self) -> None:
        self.jobs = self._counter(
            "nexus_jobs_total", "Finished job runs by kind and outcome.", ["kind", "status"]
        )
        self.job_seconds = self._histogram(
            "nexus_job_seconds", "Wall time of one job run.", ["kind"], _JOB_BUCKETS
        )
        self.stage_seconds = self._histogram(
            "nexus_job_stage_seconds",
            "Time spent in one stage of a job (fetch, ingest, plan, execute, render, ...).",
            ["stage"],
            _STAGE_BUCKETS,
        )
        self.replies = self._counter(
            "nexus_replies_total",
            "Reply deliveries: posted, resent after a crash, or skipped as already posted.",
            ["outcome"],
        )
        self.sandbox_runs = self._counter(
            "nexus_sandbox_runs_total",
            "Generated-code runs by backend and outcome (ok, error, timeout, limit).",
            ["backend", "outcome"],
        )
        self.chart_render_seconds = self._histogram(
            "nexus_chart_render_seconds",
            "One chart rendered to PNG by the warm browser.",
            [],
            _RENDER_BUCKETS,
        )

    def _define_llm(self) -> None:
        self.llm_calls = self._counter(
            "nexus_llm_calls_total",
            "LLM calls by provider, model and outcome (ok, cached, or the failure kind).",
            ["provider", "model", "outcome"],
        )
        self.llm_tokens = self._counter(
            "nexus_llm_tokens_total",
            "Billed LLM tokens by direction (input, output).",
            ["provider", "model", "direction"],
        )
        self.llm_cost = self._counter(
            "nexus_llm_cost_usd_total",
            "LLM spend in USD from the price table.",
            ["provider", "model"],
        )
        self.llm_failovers = self._counter(
            "nexus_llm_failovers_total",
            "A call moved on to the next provider of the chain.",
            ["from_provider", "to_provider"],
        )

    # The LLM router's observer (core.llm.router.RouterObserver).
    def llm_call(self, provider: str, model: str, outcome: str) -> None:
        self.llm_calls.labels(provider, model, outcome).inc()

    def llm_spend(
        self, provider: str, model: str, tokens_in: int, tokens_out: int, cost_usd: float
    ) -> None:
        self.llm_tokens.labels(provider, model, "input").inc(tokens_in)
        self.llm_tokens.labels(provider, model, "output").inc(tokens_out)
        self.llm_cost.labels(provider, model).inc(cost_usd)

    def llm_failover(self, from_provider: str, to_provider: str) -> None:
        self.llm_failovers.labels(from_provider, to_provider).inc()

    def observe_stages(self, timings_ms: Mapping[str, float]) -> None:
        for stage, milliseconds in timings_ms.items():
            self.stage_seconds.labels(stage).observe(milliseconds / 1000)
