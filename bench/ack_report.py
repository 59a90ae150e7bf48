"""The results table and command line shared by the ack benches (Slack, Teams)."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

Row = tuple[str, list[float], int, float]
"""(target, latencies in ms, errors, achieved requests/s); the first row is the baseline."""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def print_ack_table(
    console: Console, title: str, rows: list[Row], *, deadline_ms: float, platform: str
) -> None:
    table = Table(title=title)
    for column in ("target", "sent", "errors", "achieved/s", "p50", "p90", "p99", "max"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for label, lat, errors, achieved in rows:
        stats = [f"{pct(lat, q):.1f}" for q in (0.5, 0.9, 0.99)]
        table.add_row(
            label, str(len(lat)), str(errors), f"{achieved:.0f}", *stats, f"{max(lat):.1f}"
        )
    console.print(table)
    base_p50 = pct(rows[0][1], 0.5)
    deadline = f"{deadline_ms / 1000:g} s"
    for label, lat, _, _ in rows[1:]:
        console.print(
            f"{label}: p50 +{pct(lat, 0.5) - base_p50:.1f} ms over baseline; "
            f"p99 {pct(lat, 0.99):.1f} ms = {pct(lat, 0.99) / deadline_ms:.2%} "
            f"of {platform}'s {deadline}"
        )


def ack_arguments(description: str, unit: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rate", type=float, default=50.0, help=f"{unit} per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", help="default: a temporary PostgreSQL database")
    parser.add_argument("--postgres-admin-url", default=PG_ADMIN, help="creates that database")
    return parser.parse_args()
