"""A sandbox that counts its runs (``nexus_sandbox_runs_total{backend, outcome}``)."""

from __future__ import annotations

from prometheus_client import Counter

from core.sandbox.isolation import IsolationReport
from core.sandbox.protocol import Sandbox, SandboxResult, SandboxRun


def run_outcome(result: SandboxResult) -> str:
    """``ok``, ``timeout``, ``limit`` (a CPU/memory/process/output limit stopped it) or
    ``error`` (the code raised)."""
    if result.timed_out:
        return "timeout"
    if result.limits_hit:
        return "limit"
    return "ok" if result.ok else "error"


class MeteredSandbox:
    def __init__(self, inner: Sandbox, runs: Counter) -> None:
        self._inner = inner
        self._runs = runs
        self.name = inner.name

    async def start(self) -> None:
        await self._inner.start()

    async def run(self, run: SandboxRun) -> SandboxResult:
        try:
            result = await self._inner.run(run)
        except Exception:
            self._runs.labels(self.name, "failed").inc()  # the backend itself failed
            raise
        self._runs.labels(self.name, run_outcome(result)).inc()
        return result

    async def close(self) -> None:
        await self._inner.close()

    def report(self) -> IsolationReport:
        return self._inner.report()
