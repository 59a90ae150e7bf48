"""`nexus ask` end to end on a 100k-row CSV, for three kinds of question.

Run: .venv/bin/python bench/ask.py [--runs 5] [--rows 100000]

Each question is answered by the real CLI in a fresh process (imports, ingest, plan,
execute, browser start, render), and in-process by a warm engine (the worker's view:
renderer already running, file already read). The baseline measured in the same run
is plain pandas (read_csv + the same computation), the floor any answer pays.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.express as px

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.charts.renderer import ChartRenderer
from core.engine import AnalysisEngine

QUESTIONS: list[tuple[str, str, Callable[[pd.DataFrame], object]]] = [
    (
        "scalar + filter",
        "average tip for dinner",
        lambda df: df[df["time"] == "Dinner"]["tip"].mean(),
    ),
    ("group-by + chart", "average tip by day", lambda df: df.groupby("day")["tip"].mean()),
    ("distribution + chart", "distribution of total_bill", lambda df: df["total_bill"].describe()),
]


def make_dataset(rows: int, directory: Path) -> Path:
    tips = px.data.tips()
    big = tips.sample(n=rows, replace=True, random_state=7).reset_index(drop=True)
    path = directory / f"tips_{rows}.csv"
    big.to_csv(path, index=False)
    return path


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
    return ordered[index]


def time_cli(path: Path, question: str, out: Path, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", str(path), question, "--json", "--out", str(out)],
            check=True,
            capture_output=True,
        )
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def time_warm(path: Path, runs: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    async with ChartRenderer() as renderer:
        engine = AnalysisEngine(renderer=renderer)
        tables = engine.load_files([path])
        await engine.answer(tables, QUESTIONS[1][1])  # warm the browser
        for label, question, _ in QUESTIONS:
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                await engine.answer(tables, question)
                samples.append((time.perf_counter() - started) * 1000)
            results[label] = samples
    return results


def time_pandas(path: Path, compute: Callable[[pd.DataFrame], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        compute(pd.read_csv(path))
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = make_dataset(args.rows, directory)
        warm = asyncio.run(time_warm(path, args.runs))
        megabytes = path.stat().st_size / 1e6
        print(f"nexus ask on {args.rows:,} rows ({megabytes:.1f} MB), {args.runs} runs each")
        columns = ("CLI p50", "CLI p95", "warm p50", "warm p95")
        header = f"{'question':<22} " + " ".join(f"{c:>9}" for c in columns)
        header += f" {'pandas p50':>11}"
        print(header)
        print("-" * len(header))
        for label, question, compute in QUESTIONS:
            cli = time_cli(path, question, directory / "out", args.runs)
            floor = time_pandas(path, compute, args.runs)
            print(
                f"{label:<22} {statistics.median(cli):>7.0f}ms {percentile(cli, 0.95):>7.0f}ms "
                f"{statistics.median(warm[label]):>7.0f}ms {percentile(warm[label], 0.95):>7.0f}ms "
                f"{statistics.median(floor):>9.0f}ms"
            )
        print("CLI = fresh process per question (imports + ingest + browser start + render);")
        print("warm = in-process engine, renderer running, table already read (worker view);")
        print("pandas = read_csv + the computation alone, the floor.")


if __name__ == "__main__":
    main()
