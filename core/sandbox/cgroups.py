"""Per-run pids and memory cgroups (cgroup v1), created by the fork server.

Each run gets ``nexus-sbx-<id>`` under the fork server's own cgroup in the ``pids``
and ``memory`` hierarchies, so limits nest inside whatever contains the worker (a
container, or the test suite's outer cgroup). The run's first process joins them
itself, before it can fork, by writing ``0`` to ``cgroup.procs``.

cgroup v2 needs a delegated subtree with no processes in it; when that is not set
up we say so in the isolation report instead of guessing.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("pids", "memory")


def _own_path(controller: str) -> str | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return path
    return None


def discover() -> dict[str, Path]:
    """Writable v1 hierarchies for our controllers, keyed by controller."""
    found: dict[str, Path] = {}
    for controller in CONTROLLERS:
        mount = ROOT / controller
        own = _own_path(controller)
        if own is None or not (mount / "cgroup.procs").exists():
            continue
        base = mount / own.lstrip("/")
        probe = base / f"nexus-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError:
            continue
        found[controller] = base
    return found


@dataclass
class RunCgroup:
    """The cgroups of one run; ``procs`` are the files its first process writes to."""

    paths: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def create(
        cls, bases: dict[str, Path], name: str, *, max_pids: int, memory_bytes: int
    ) -> RunCgroup:
        group = cls()
        try:
            for controller, base in bases.items():
                path = base / name
                path.mkdir(exist_ok=True)
                group.paths[controller] = path
                if controller == "pids":
                    (path / "pids.max").write_text(str(max_pids))
                elif controller == "memory":
                    (path / "memory.limit_in_bytes").write_text(str(memory_bytes))
                    # No swap either (memsw must be set after the plain limit).
                    with contextlib.suppress(OSError):
                        (path / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
                    with contextlib.suppress(OSError):
                        (path / "memory.swappiness").write_text("0")
        except OSError:
            group.remove()
            raise
        return group

    @property
    def procs(self) -> list[str]:
        return [str(p / "cgroup.procs") for p in self.paths.values()]

    def limits_hit(self) -> list[str]:
        """Which cgroup limits the run ran into (read before :meth:`remove`)."""
        hit: list[str] = []
        pids = self.paths.get("pids")
        if pids is not None and _counter(pids / "pids.events", "max") > 0:
            hit.append("processes")
        memory = self.paths.get("memory")
        if memory is not None and _counter(memory / "memory.oom_control", "oom_kill") > 0:
            hit.append("memory")
        return hit

    def pids(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths.values():
            with contextlib.suppress(OSError):
                found.update(int(x) for x in (path / "cgroup.procs").read_text().split())
        return sorted(found)

    def kill_all(self) -> None:
        """SIGKILL whatever is still inside; only sandbox processes can be in here."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self) -> bool:
        """Remove the directories; False while exiting tasks still hold them."""
        done = True
        for controller, path in list(self.paths.items()):
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                done = False
                continue
            del self.paths[controller]
        return done


def _counter(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0
