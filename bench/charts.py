"""Warm ChartRenderer vs plotly's default ``fig.to_image()``, in one run.

Run: ``.venv/bin/python bench/charts.py [--n 20] [--default-n 5] [--tabs 1]``

The warm renderer is measured two ways: "idle" leaves a pause between renders, as a
chat bot does (one chart per answer), so a tab's periodic page reload happens off the
clock; "burst" renders back to back, so a render may also wait for a reload.
The default path launches a new Chromium for every call. Last, the CPU a burst of
renders costs Chromium when each tab's page is reloaded after every render (kaleido's
own behaviour) and when it serves ``renders_per_page`` figures first (ours).
Exits 0: it is a report.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from procfs import tree_cpu_seconds
from rich.console import Console
from rich.table import Table

from core.charts import ChartRenderer, png_size

WIDTH, HEIGHT = 900, 540
IDLE_PAUSE = 0.4  # seconds between "idle" renders: longer than a tab reload
TARGET_P50_MS = 150.0
TARGET_SPEEDUP = 10.0


def figures() -> dict[str, go.Figure]:
    tips = px.data.tips().groupby("day", as_index=False)["tip"].mean()
    gap = px.data.gapminder().groupby("year", as_index=False)["lifeExp"].mean()
    rng = np.random.default_rng(0)
    return {
        "bar": px.bar(tips, x="day", y="tip", title="Mean tip by day"),
        "line": px.line(gap, x="year", y="lifeExp", title="lifeExp"),
        "scatter 10k": px.scatter(
            x=rng.normal(size=10_000), y=rng.normal(size=10_000), title="10k points"
        ),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench_warm(
    figs: dict[str, go.Figure], n: int, tabs: int
) -> tuple[float, dict[str, dict[str, list[float]]]]:
    results: dict[str, dict[str, list[float]]] = {}
    async with ChartRenderer(width=WIDTH, height=HEIGHT, tabs=tabs) as renderer:
        started = time.perf_counter()
        await renderer.render(go.Figure(go.Bar(y=[1])))  # first render warms plotly.py too
        warmup = time.perf_counter() - started
        for name, fig in figs.items():
            await renderer.render(fig)  # per-figure warm-up, not timed
            runs: dict[str, list[float]] = {"idle": [], "burst": []}
            for mode in ("idle", "burst"):
                for _ in range(n):
                    if mode == "idle":
                        await asyncio.sleep(IDLE_PAUSE)
                    t0 = time.perf_counter()
                    png = await renderer.render(fig)
                    runs[mode].append((time.perf_counter() - t0) * 1000)
                    assert png_size(png) == (WIDTH, HEIGHT)
            results[name] = runs
    return warmup, results


async def bench_page_reuse(fig: go.Figure, n: int, renders_per_page: int) -> tuple[float, float]:
    """(Chromium CPU ms per render, renders per second) for ``n`` back-to-back renders."""
    async with ChartRenderer(width=WIDTH, height=HEIGHT, renders_per_page=renders_per_page) as r:
        for _ in range(3):
            await r.render(fig)
        pid = r.browser_pid
        assert pid is not None
        cpu, started = tree_cpu_seconds(pid), time.perf_counter()
        for _ in range(n):
            await r.render(fig)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1.0)  # a reload still running counts too
        return (tree_cpu_seconds(pid) - cpu) * 1000 / n, n / elapsed


def bench_default(figs: dict[str, go.Figure], n: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    for name, fig in figs.items():
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            png = fig.to_image(format="png", width=WIDTH, height=HEIGHT)
            times.append((time.perf_counter() - t0) * 1000)
            assert png_size(png) == (WIDTH, HEIGHT)
        results[name] = times
    return results


def load() -> str:
    # Other jobs on the machine skew every number here; print how busy it was.
    return "load avg {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def verdict(ok: bool) -> str:
    return "[green]PASS[/green]" if ok else "[red]FAIL[/red]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="warm renders per figure and mode")
    parser.add_argument("--default-n", type=int, default=5, help="default renders per figure")
    parser.add_argument("--tabs", type=int, default=1, help="kaleido tabs in the warm browser")
    parser.add_argument("--renders-per-page", type=int, default=50, help="page reuse")
    parser.add_argument("--reuse-n", type=int, default=50, help="renders in the reuse run")
    args = parser.parse_args(argv)
    console = Console(width=120)
    figs = figures()
    console.print(f"{os.cpu_count()} CPUs, {load()} before the run")

    launch_t0 = time.perf_counter()
    warmup, warm = asyncio.run(bench_warm(figs, args.n, args.tabs))
    console.print(
        f"warm renderer: {args.tabs} tab(s); first render {warmup * 1000:.0f} ms; "
        f"whole warm phase {time.perf_counter() - launch_t0:.1f} s"
    )
    default = bench_default(figs, args.default_n)
    console.print(f"{load()} after the run")

    table = Table(
        title=f"PNG {WIDTH}x{HEIGHT}, ms. bar: tips mean tip by day; "
        "line: gapminder mean lifeExp by year; scatter: 10k random points"
    )
    for col in ("chart", "warm idle p50", "p95", "warm burst p50", "p95", "default p50"):
        table.add_column(col, justify="left" if col == "chart" else "right")
    table.add_column("speedup idle / burst", justify="right")
    checks: list[tuple[str, bool]] = []
    for name in figs:
        idle, burst, dflt = warm[name]["idle"], warm[name]["burst"], default[name]
        d50 = statistics.median(dflt)
        i50, b50 = statistics.median(idle), statistics.median(burst)
        table.add_row(
            name,
            f"{i50:.0f}",
            f"{pct(idle, 0.95):.0f}",
            f"{b50:.0f}",
            f"{pct(burst, 0.95):.0f}",
            f"{d50:.0f}",
            f"{d50 / i50:.1f}x / {d50 / b50:.1f}x",
        )
        if not name.startswith("scatter"):
            for mode, p50 in (("idle", i50), ("burst", b50)):
                checks.append((f"{name} warm {mode} p50 <= {TARGET_P50_MS:.0f} ms", p50 <= 150))
                checks.append((f"{name} {mode} >= {TARGET_SPEEDUP:.0f}x default", d50 / p50 >= 10))
    console.print(table)
    reuse = Table(title=f"Chromium CPU for {args.reuse_n} bar charts back to back")
    for col in ("page reloaded", "Chromium CPU ms / render", "renders / s"):
        reuse.add_column(col, justify="left" if col == "page reloaded" else "right")
    for every in (1, args.renders_per_page):
        cpu_ms, rate = asyncio.run(bench_page_reuse(figs["bar"], args.reuse_n, every))
        label = "after every render (kaleido)" if every == 1 else f"after {every} renders"
        reuse.add_row(label, f"{cpu_ms:.0f}", f"{rate:.1f}")
    console.print(reuse)
    for label, ok in checks:
        console.print(f"{verdict(ok)}  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
