"""The tables ``bench/load.py`` prints: acks against the baseline, answers, worker
scaling and memory over time, each with its target and a yes/NO verdict."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from loadgen import Sent
from rich.console import Console
from rich.table import Table

ACK_P99_MS = 25.0
CHART_P50_S = 1.0
SCALING = 1.8


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


@dataclass
class Report:
    args: argparse.Namespace
    baseline: list[Sent] = field(default_factory=list)
    ack: list[Sent] = field(default_factory=list)
    """The measured acks (after the warm-up)."""
    warmup: list[Sent] = field(default_factory=list)
    """The same traffic's first seconds, reported apart (not against the target)."""
    drain_rate: float = 0.0
    serve_cpu_ms: float = 0.0
    """``nexus serve``'s CPU time per event over the ack phase."""
    steal: float = 0.0
    """Share of the cores' time the hypervisor took during the measured acks."""
    one_worker: float = 0.0
    two_workers: float = 0.0
    one_worker_cpu: float = 0.0
    two_workers_cpu: float = 0.0
    """Share of the machine's cores busy during each throughput run (0..1)."""
    driver_cpu: float = 0.0
    """Share of one core the bench driver (with the platform fakes) used, 2 workers."""
    chart_latency: list[float | None] = field(default_factory=list)
    done_latency: list[float | None] = field(default_factory=list)
    rss: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    rss_mark: int = 0
    """Index of the first RSS sample of the steady phases (ack + answers)."""

    def print(self) -> None:
        console = Console(width=130)
        console.print(self.acks())
        console.print(self.answers())
        console.print(self.memory())

    def acks(self) -> Table:
        a = self.args
        replicas = f", {a.web} nexus serve replicas" if a.web > 1 else ""
        table = Table(
            title=f"Ack latency, {a.rate:g} events/s for {a.seconds:g} s after a {a.warmup:g} s "
            f"warm-up (ms){replicas}"
        )
        for column in ("target", "sent", "non-2xx", "sent/s", "p50", "p99", "max", "p99<=25"):
            table.add_column(column, justify="left" if column == "target" else "right")
        names = sorted({s.platform for s in self.ack})
        rows = [("baseline: bare aiohttp 200", self.baseline),
                (f"nexus serve ({'+'.join(names)})", self.ack)]  # fmt: skip
        rows += [(f"  of which {n}", [s for s in self.ack if s.platform == n]) for n in names]
        if self.warmup:
            rows.append((f"warm-up: the first {a.warmup:g} s of the same traffic", self.warmup))
        for label, sent in rows:
            lat = [s.ack_ms for s in sent]
            span = max(s.due_epoch for s in sent) - min(s.due_epoch for s in sent) if sent else 0
            table.add_row(
                label, str(len(sent)), str(sum(not s.acked for s in sent)),
                f"{len(sent) / span:.0f}" if span else "-",
                f"{percentile(lat, 0.5):.1f}", f"{percentile(lat, 0.99):.1f}",
                f"{max(lat, default=0):.1f}",
                "-" if sent is self.warmup else verdict(percentile(lat, 0.99) <= ACK_P99_MS),
            )  # fmt: skip
        alone = " (workers stopped while acks were measured)" if self.args.web_alone else ""
        if self.args.worker_nice and not self.args.web_alone:
            alone = f" (workers answering meanwhile at nice {self.args.worker_nice})"
        table.caption = (
            f"nexus serve used {self.serve_cpu_ms:.1f} ms of CPU per measured event{alone}; "
            f"2 workers drained the events at {self.drain_rate:.0f} answers/s; the hypervisor "
            f"took {self.steal:.0%} of the cores' time meanwhile (steal)"
        )
        return table

    def answers(self) -> Table:
        table = Table(title=f"Answers on a {self.args.rows:,}-row file (template questions)")
        for column in ("measure", "n", "p50", "p95", "target", "met"):
            table.add_column(column, justify="left" if column == "measure" else "right")
        for label, values in (("event -> chart posted (s)", self.chart_latency),
                              ("event -> answer complete (s)", self.done_latency)):  # fmt: skip
            got = [v for v in values if v is not None]
            p50 = percentile(got, 0.5)
            missing = len(values) - len(got)
            table.add_row(
                label + (f", {missing} missing" if missing else ""), str(len(got)),
                f"{p50:.2f}", f"{percentile(got, 0.95):.2f}", "p50 <= 1 s",
                verdict(p50 <= CHART_P50_S and not missing),
            )  # fmt: skip
        ratio = self.two_workers / self.one_worker if self.one_worker else 0.0
        table.add_row("worker throughput, 1 worker (answers/s)", str(self.args.batch),
                      f"{self.one_worker:.2f}", "", "baseline", "")  # fmt: skip
        table.add_row("worker throughput, 2 workers (answers/s)", str(self.args.batch),
                      f"{self.two_workers:.2f}", f"x{ratio:.2f}", ">= x1.8",
                      verdict(ratio >= SCALING))  # fmt: skip
        cores = os.cpu_count() or 1
        # What a worker gets done per core it keeps busy: if adding a worker leaves this
        # unchanged, throughput follows the cores there are to give it.
        runs = ((self.one_worker, self.one_worker_cpu), (self.two_workers, self.two_workers_cpu))
        per_core = [rate / (busy * cores) if busy else 0.0 for rate, busy in runs]
        table.add_row(
            "answers per busy core-second, 1 -> 2 workers", str(self.args.batch),
            f"{per_core[0]:.2f} -> {per_core[1]:.2f}",
            f"x{per_core[1] / per_core[0]:.2f}" if per_core[0] else "-", "context", "",
        )  # fmt: skip
        table.caption = (
            f"cores busy during the runs: {self.one_worker_cpu:.0%} with 1 worker, "
            f"{self.two_workers_cpu:.0%} with 2 (everything shares this machine's cores); "
            f"the driver and its platform fakes used {self.driver_cpu:.0%} of a core"
        )
        return table

    def memory(self) -> Table:
        table = Table(title="RSS (MiB) over the run; growth = last - first of the steady phases")
        for column in ("process", "start", "steady start", "end", "max", "growth", "MiB/min"):
            table.add_column(column, justify="left" if column == "process" else "right")
        if not self.rss:
            return table
        steady = self.rss[self.rss_mark :] or self.rss
        minutes = max((steady[-1][0] - steady[0][0]) / 60, 1e-9)
        for name in self.rss[0][1]:
            series = [sample[name] for _, sample in self.rss if name in sample]
            first, last = steady[0][1].get(name, 0.0), steady[-1][1].get(name, 0.0)
            table.add_row(
                name, f"{series[0]:.0f}", f"{first:.0f}", f"{series[-1]:.0f}",
                f"{max(series):.0f}", f"{last - first:+.0f}", f"{(last - first) / minutes:+.1f}",
            )  # fmt: skip
        return table
