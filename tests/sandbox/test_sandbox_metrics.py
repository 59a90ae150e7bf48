"""``nexus_sandbox_runs_total{backend, outcome}`` from real runs in the local sandbox."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from core.metrics import NexusMetrics
from core.sandbox.local import LocalSandbox
from core.sandbox.metered import MeteredSandbox
from core.sandbox.protocol import SandboxRun

pytestmark = pytest.mark.asyncio(loop_scope="session")


def runs(metrics: NexusMetrics) -> dict[str, float]:
    text = generate_latest(metrics.registry).decode()
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "nexus_sandbox_runs_total" and sample.labels["backend"] == "local"
    }


async def test_each_outcome_is_counted(sandbox: LocalSandbox) -> None:
    metrics = NexusMetrics()
    metered = MeteredSandbox(sandbox, metrics.sandbox_runs)

    ok = await metered.run(SandboxRun(code="result = 6 * 7"))
    failed = await metered.run(SandboxRun(code="raise ValueError('no such column')"))
    slow = await metered.run(SandboxRun(code="while True:\n    pass", timeout=0.5))

    assert ok.ok and failed.error is not None and slow.timed_out
    assert runs(metrics) == {"ok": 1.0, "error": 1.0, "timeout": 1.0}
    assert metered.report() == sandbox.report() and metered.name == sandbox.name
