"""Sandbox latency and throughput: warm fork server vs a fresh interpreter, same run.

    .venv/bin/python bench/sandbox.py [--runs 60] [--concurrency 1,2,4,8]

Per-run latency of a trivial pandas snippet on a 10k-row CSV (read, group-by mean)
through ``LocalSandbox.run`` (isolated child forked from the warm server), against
the same snippet in a fresh ``python`` process, bare and inside bubblewrap. Then
throughput with concurrent runs. Target: warm p50 <= 30 ms. Prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sandbox.local import LocalSandbox
from core.sandbox.protocol import SandboxRun
from core.settings import SandboxLimits

SNIPPET = "import pandas as pd\ndf = pd.read_csv('data.csv')\ndf.groupby('g')['v'].mean()\n"
TARGET_P50_MS = 30.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def make_dataset(folder: Path) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    path = folder / "data.csv"
    pd.DataFrame({"g": rng.integers(0, 20, 10_000), "v": rng.random(10_000)}).to_csv(
        path, index=False
    )
    return path


def fresh_runs(n: int, data: Path, wrap: list[str]) -> list[float]:
    code = SNIPPET.replace("df.groupby", "print(df.groupby") + ")"
    code = code.replace("\n)", ")\n")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(
            [*wrap, sys.executable, "-c", code], cwd=data.parent, check=True,
            stdout=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1"},
        )  # fmt: skip
        times.append(time.perf_counter() - t0)
    return times


def bwrap_prefix(data: Path) -> list[str] | None:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    prefix = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink("/" + name):
            prefix += ["--symlink", os.readlink("/" + name), "/" + name]
    for path in {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}:
        prefix += ["--ro-bind", path, path]
    prefix += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    prefix += ["--ro-bind", str(data.parent), str(data.parent), "--chdir", str(data.parent)]
    return prefix


async def warm_runs(box: LocalSandbox, n: int, data: Path, gap: float = 0.0) -> list[float]:
    times = []
    for _ in range(n):
        if gap:
            await asyncio.sleep(gap)  # a run normally follows an LLM call, not another run
        t0 = time.perf_counter()
        res = await box.run(SandboxRun(code=SNIPPET, datasets=[data]))
        times.append(time.perf_counter() - t0)
        assert res.ok, res.error
    return times


async def throughput(box: LocalSandbox, data: Path, concurrency: int, total: int) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            res = await box.run(SandboxRun(code=SNIPPET, datasets=[data]))
            assert res.ok, res.error

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    return total / (time.perf_counter() - t0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--fresh-runs", type=int, default=15)
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between spaced runs")
    parser.add_argument("--concurrency", default="1,2,4,8")
    args = parser.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="nexus-bench-"))
    os.chmod(folder, 0o755)
    data = make_dataset(folder)
    box = LocalSandbox(SandboxLimits(concurrency=max(levels)))
    t0 = time.perf_counter()
    await box.start()
    startup = time.perf_counter() - t0
    print(f"fork server ready in {startup:.2f} s; {box.report().summary_line()}")
    for line in box.report().missing:
        print(f"  missing: {line}")
    try:
        await warm_runs(box, 5, data)  # first runs touch cold pages
        warm = await warm_runs(box, args.runs, data, gap=args.gap)
        back_to_back = await warm_runs(box, args.runs, data)
        fresh = fresh_runs(args.fresh_runs, data, [])
        wrap = bwrap_prefix(data)
        fresh_bwrap = fresh_runs(args.fresh_runs, data, wrap) if wrap else []
        rates = {c: await throughput(box, data, c, max(20, 10 * c)) for c in levels}
    finally:
        await box.close()
        shutil.rmtree(folder, ignore_errors=True)

    rows = [
        (f"warm, runs {args.gap * 1000:g} ms apart", warm),
        ("warm, back to back", back_to_back),
        ("fresh python (no isolation)", fresh),
    ]
    if fresh_bwrap:
        rows.append(("fresh python in bwrap", fresh_bwrap))
    print(f"\nper-run latency, 10k-row CSV read + group-by ({os.cpu_count()} CPUs)")
    print(f"{'mode (warm = isolated fork server)':<36}{'runs':>6}{'p50 ms':>10}{'p90 ms':>10}"
          f"{'mean ms':>10}")  # fmt: skip
    for name, times in rows:
        print(
            f"{name:<36}{len(times):>6}{pct(times, 0.5):>10.1f}{pct(times, 0.9):>10.1f}"
            f"{statistics.mean(times) * 1000:>10.1f}"
        )
    p50 = pct(warm, 0.5)
    verdict = "PASS" if p50 <= TARGET_P50_MS else "FAIL"
    print(f"\nwarm p50 {p50:.1f} ms vs fresh p50 {pct(fresh, 0.5):.1f} ms "
          f"({pct(fresh, 0.5) / p50:.1f}x); target <= {TARGET_P50_MS:g} ms: {verdict}")  # fmt: skip
    print("\nthroughput (same snippet, concurrent runs)")
    print(f"{'concurrency':<14}{'runs/s':>10}")
    for c, rate in rates.items():
        print(f"{c:<14}{rate:>10.1f}")


if __name__ == "__main__":
    asyncio.run(main())
