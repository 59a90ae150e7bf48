"""An outer PID namespace and pids/memory cgroup around a whole sandbox under test.

Hostile programs only ever run inside this jail: the fork server is started through
``launcher`` (join the cgroup, then ``unshare --pid --fork --kill-child``), so even a
sandbox bug that let code out of its own namespaces could only reach processes of
this jail (not pytest, not the machine), and could not fork or allocate past the
jail's cgroup limits. Tests assert the jail is in place before running anything.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
from pathlib import Path

from core.sandbox.cgroups import RunCgroup, discover
from core.sandbox.local import LocalSandbox
from core.settings import SandboxLimits

_counter = itertools.count()
CANARY_VARS = ("NEXUS_TEST_CANARY", "OPENAI_API_KEY", "E2B_API_KEY", "SLACK_BOT_TOKEN")


def make_limits(**overrides: object) -> SandboxLimits:
    """Small limits keep the hostile programs quick."""
    values: dict[str, object] = {
        "timeout_seconds": 8.0,
        "cpu_seconds": 2,
        "memory_mb": 384,
        "max_processes": 24,
        "max_open_files": 64,
        "max_file_mb": 8,
        "disk_mb": 48,
        "max_output_bytes": 64 * 1024,
        "max_result_bytes": 4 * 1024 * 1024,
        "concurrency": 4,
    }
    values.update(overrides)
    return SandboxLimits(**values)  # type: ignore[arg-type]


class OuterJail:
    def __init__(self, *, pids_max: int = 400, memory_bytes: int = 3 * 1024**3) -> None:
        self.problem = _problem()
        self.group: RunCgroup | None = None
        if self.problem is None:
            name = f"nexus-test-jail-{os.getpid()}-{next(_counter)}"
            self.group = RunCgroup.create(
                discover(), name, max_pids=pids_max, memory_bytes=memory_bytes
            )

    @property
    def launcher(self) -> list[str]:
        assert self.group is not None
        joins = " && ".join(f"echo $$ > {path}" for path in self.group.procs)
        # sh joins the cgroup, then becomes unshare, whose forked child (the fork
        # server) is PID 1 of a new PID namespace and dies when unshare dies.
        return ["sh", "-c", f'{joins} && exec unshare --pid --fork --kill-child -- "$@"', "jail"]

    def pids(self) -> set[int]:
        """Every process in the jail, including those in per-run cgroups below it."""
        assert self.group is not None
        found: set[int] = set()
        for path in self.group.paths.values():
            for procs in path.rglob("cgroup.procs"):
                found |= _procs(procs.parent)
        return found

    def running_code(self, uid_base: int = 200_000) -> set[int]:
        """Processes running as a sandbox uid: user code (or what it left behind)."""
        return {p for p in self.pids() if uid_base <= _uid(p) < uid_base + 1000}

    def strays(self, uid_base: int = 200_000) -> set[int]:
        """Everything that should not exist between runs. Allowed: the launcher
        (parent outside the jail), the fork server, and its idle slots (children of
        the server still running as root, not yet given a run)."""
        pids = self.pids()
        launchers = {p for p in pids if _ppid(p) not in pids}
        servers = {p for p in pids if _ppid(p) in launchers}
        idle = {p for p in pids if _ppid(p) in servers and _uid(p) == 0}
        return (pids - launchers - servers - idle) | self.running_code(uid_base)

    def contains(self, pid: int) -> bool:
        assert self.group is not None
        return all(pid in _procs(path) for path in self.group.paths.values())

    def assert_holds(self, sandbox: LocalSandbox) -> None:
        """The fork server is PID 1 of its own namespace and inside our cgroup."""
        server = sandbox._server
        assert server is not None and server.alive
        assert server.hello["pid"] == 1, "fork server is not in an outer PID namespace"
        assert self.contains(server.proc.pid), "fork server launcher is not in the jail cgroup"

    def close(self) -> None:
        if self.group is None:
            return
        self.group.kill_all()
        # Per-run cgroups of a fork server that did not get to clean up live below ours.
        for path in self.group.paths.values():
            for child in sorted(path.glob("*/"), reverse=True):
                if (child / "cgroup.procs").exists():
                    with contextlib.suppress(OSError):
                        child.rmdir()
        self.group.remove()


def _status(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def _uid(pid: int) -> int:
    return _status(pid, "Uid")


def _ppid(pid: int) -> int:
    return _status(pid, "PPid")


def _procs(path: Path) -> set[int]:
    try:
        return {int(x) for x in (path / "cgroup.procs").read_text().split()}
    except OSError:
        return set()


def _problem() -> str | None:
    if os.geteuid() != 0:
        return "the hostile suite needs root (outer PID namespace and cgroups)"
    if shutil.which("unshare") is None:
        return "util-linux unshare is missing"
    if set(discover()) != {"pids", "memory"}:
        return "writable pids and memory cgroups (v1) are missing"
    return None
