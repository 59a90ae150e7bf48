"""Milliseconds per named stage: the receipt's timings and ``nexus_job_stage_seconds``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    """Times stages; a stage entered again (one download per file) adds up."""

    def __init__(self) -> None:
        self.timings_ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.timings_ms[name] = round(self.timings_ms.get(name, 0.0) + elapsed, 2)

    def exclude(self, outer: str, inner: str) -> None:
        """Take ``inner``'s time out of ``outer``, which was timed around it."""
        if outer in self.timings_ms:
            remaining = self.timings_ms[outer] - self.timings_ms.get(inner, 0.0)
            self.timings_ms[outer] = round(max(0.0, remaining), 2)
