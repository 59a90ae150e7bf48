"""Prometheus metrics of the conversation path, on a registry passed in (no globals).

The web process serves its registry at ``/metrics``; each worker process counts its
own jobs (scrape them by running workers with their own exporter, or read the job
rows in the database).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class NexusMetrics:
    """Counters and histograms of one process."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.events = Counter(
            "nexus_events_total",
            "Inbound events by what the conversation manager did with them.",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.accept_seconds = Histogram(
            "nexus_accept_seconds",
            "Time to dedupe, check, record and enqueue one inbound event.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs = Counter(
            "nexus_jobs_total",
            "Finished job runs by kind and outcome.",
            ["kind", "status"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "nexus_job_seconds",
            "Wall time of one job run.",
            ["kind"],
            buckets=_JOB_BUCKETS,
            registry=self.registry,
        )
        self.replies = Counter(
            "nexus_replies_total",
            "Reply deliveries: posted, resent after a crash, or skipped as already posted.",
            ["outcome"],
            registry=self.registry,
        )
