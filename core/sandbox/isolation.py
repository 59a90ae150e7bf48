"""What isolation this host gives sandboxed code, in words an operator can act on.

The fork server probes the kernel once at start (see :func:`core.sandbox.jail.probe`)
and every run then applies exactly the features found. Whatever is missing is
listed here, shown by ``/readyz``, ``nexus sandbox check`` and the startup log;
a missing feature never means falling back to running code in the worker.
"""

from __future__ import annotations

import shutil
from typing import Any

from pydantic import BaseModel, Field

# Feature keys, in the order they are reported.
FEATURES = (
    "netns",
    "mountns",
    "pidns",
    "ipcns",
    "uid",
    "userns",
    "no_new_privs",
    "seccomp",
    "cgroup_pids",
    "cgroup_memory",
)

_WHAT = {
    "netns": (
        "network: private network namespace with no interfaces (no loopback, no outside)",
        "network: NOT isolated (no network namespace); code can reach the host's network",
    ),
    "mountns": (
        "filesystem: private root; /usr and Python read-only, a size-capped tmpfs work dir"
        " holding copies of the datasets; host files, project and data dir not mounted",
        "filesystem: NOT isolated (no mount namespace); code sees the host's files"
        " through its uid's permissions",
    ),
    "pidns": (
        "processes: private PID namespace; the whole tree dies with the run",
        "processes: no PID namespace; code can see host processes (killed by process group)",
    ),
    "ipcns": ("ipc/uts: private IPC and hostname namespaces", "ipc/uts: shared with the host"),
    "uid": (
        "user: runs as an unprivileged uid with no capabilities",
        "user: runs as the worker's own uid (could not switch to an unprivileged uid)",
    ),
    "userns": (
        "user namespace: mapped to the worker's uid, no capabilities kept",
        "",
    ),
    "no_new_privs": (
        "privileges: no_new_privs set (setuid binaries cannot elevate)",
        "privileges: no_new_privs not set",
    ),
    "seccomp": (
        "syscalls: seccomp filter denies new namespaces, mount, ptrace, bpf, keyctl,"
        " userfaultfd, io_uring and module loading",
        "syscalls: no seccomp filter (unsupported architecture or kernel)",
    ),
    "cgroup_pids": (
        "process limit: per-run pids cgroup",
        "process limit: no pids cgroup (RLIMIT_NPROC on the sandbox uid only)",
    ),
    "cgroup_memory": (
        "memory limit: per-run memory cgroup (OOM kills only the run)",
        "memory limit: no memory cgroup (RLIMIT_AS only)",
    ),
}

ALWAYS = [
    "environment: empty (no API keys, tokens or worker settings)",
    "limits: CPU time, address space, processes, open files, file size, no core dumps"
    " (rlimits); wall-clock timeout kills the run; stdout/stderr/result size capped",
    "execution: a separate process forked from a warm server, never the worker itself",
]


class IsolationReport(BaseModel):
    """Enforced and missing protections of one backend on this host."""

    backend: str
    features: dict[str, bool] = Field(default_factory=dict)
    enforced: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def fully_isolated(self) -> bool:
        return not self.missing

    def summary_line(self) -> str:
        if not self.missing:
            return f"sandbox {self.backend}: fully isolated ({len(self.enforced)} protections)"
        return f"sandbox {self.backend}: running WITHOUT " + "; ".join(
            m.split(":", 1)[0] for m in self.missing
        )

    def readyz(self) -> dict[str, Any]:
        """The block ``/readyz`` shows: usable either way, but says what is missing."""
        return {
            "backend": self.backend,
            "isolated": self.fully_isolated,
            "enforced": self.enforced,
            "missing": self.missing,
        }


def describe(features: dict[str, bool], *, errors: dict[str, str] | None = None) -> IsolationReport:
    """Turn probed features into an operator-facing report for the local backend."""
    report = IsolationReport(backend="local", features=dict(features))
    errors = errors or {}
    for key in FEATURES:
        good, bad = _WHAT[key]
        if key == "userns":
            if features.get(key):
                report.enforced.append(good)
            continue
        if key == "ipcns" and not features.get(key):
            continue  # worth a note, not an alarm
        if features.get(key):
            report.enforced.append(good)
        else:
            reason = errors.get(key)
            report.missing.append(bad + (f" [{reason}]" if reason else ""))
    report.enforced.extend(ALWAYS)
    bwrap = shutil.which("bwrap")
    report.notes.append(
        "bubblewrap: "
        + (f"{bwrap} present; not needed, namespaces are set up directly" if bwrap else "absent")
    )
    return report
