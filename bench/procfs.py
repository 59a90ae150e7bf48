"""What the benches read from /proc: CPU time of processes and of the machine, RSS."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from core.charts.browser import process_tree


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU time a process has used so far; with ``reaped_children``, also
    that of its children which have exited and been waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11 : 15 if reaped_children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """:func:`cpu_seconds` of ``root`` and every descendant alive (Chromium's helpers)."""
    total = 0.0
    for pid in (root, *process_tree(root)):
        try:
            total += cpu_seconds(pid, reaped_children=True)
        except OSError:
            continue  # exited while we looked
    return total


class CpuTimes(NamedTuple):
    busy: int
    """Time this machine's cores ran its own processes."""
    steal: int
    """Time the hypervisor gave this VM's cores to someone else."""
    total: int


def machine_cpu() -> CpuTimes:
    """Jiffies of every core since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, steal = values[3] + values[4], values[7]  # idle + iowait; steal
    return CpuTimes(sum(values) - idle - steal, steal, sum(values))


def rss_mib(pid: int) -> float:
    """Resident set size of a process (and not its children), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
