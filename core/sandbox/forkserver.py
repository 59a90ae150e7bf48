"""The warm fork server: imports the analysis stack once, then forks children.

Started by :class:`core.sandbox.local.LocalSandbox` with an empty environment and a
SOCK_SEQPACKET control socket. A run request carries fds (stdout, stderr and result
pipes, a memfd with the code, one fd per dataset), so user code and data never pass
through this process. The server keeps a few prepared children (see ``slots.py``),
hands each run to one, enforces its wall-clock deadline, reaps it, cleans up, and
sends an ``exit`` event back. Single-threaded on purpose: fork is only safe so.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import selectors
import shutil
import signal
import socket
import sys
import time
from typing import Any

from core.sandbox import syscalls
from core.sandbox.cgroups import discover
from core.sandbox.probe import probe
from core.sandbox.slots import Slot, SlotPool
from core.sandbox.warm import exercise

MAX_MESSAGE = 256 * 1024
MAX_FDS = 4 + 64  # stdout, stderr, result, code, then one per dataset


def log(event: str, **fields: Any) -> None:
    line = {"component": "sandbox.forkserver", "event": event, "pid": os.getpid(), **fields}
    with contextlib.suppress(OSError):
        os.write(2, (json.dumps(line, default=str) + "\n").encode())


class ForkServer:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.sock = socket.socket(fileno=config["control_fd"])
        state = config["state_dir"]
        pid_ns_fd: int | None = None
        with contextlib.suppress(OSError):
            pid_ns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        cgroups = discover() if os.geteuid() == 0 else {}
        binds = python_binds(config.get("project_root"))
        os.makedirs(f"{state}/root", mode=0o700, exist_ok=True)
        os.makedirs(f"{state}/work", mode=0o711, exist_ok=True)
        probe_spec = {
            "uid": int(config["uid_base"]), "gid": int(config["uid_base"]),
            "limits": config["limits"], "cgroup_procs": [], "binds": binds,
            "newroot": f"{state}/root", "workdir": None,
        }  # fmt: skip
        self.features, self.errors = probe(probe_spec, pid_ns_fd)
        self.features["cgroup_pids"] = "pids" in cgroups
        self.features["cgroup_memory"] = "memory" in cgroups
        for key in config.get("disable", []):
            if self.features.get(key):
                self.features[key] = False
                self.errors[key] = "disabled by configuration"
        if not self.features["cgroup_pids"]:
            cgroups.pop("pids", None)
        if not self.features["cgroup_memory"]:
            cgroups.pop("memory", None)
        self.pool = SlotPool(
            config=config, features=self.features, cgroups=cgroups, binds=binds,
            pid_ns_fd=pid_ns_fd, log=log,
        )  # fmt: skip

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.sock.send(json.dumps(message).encode())

    def start_run(self, req: dict[str, Any], fds: list[int]) -> None:
        run_id = str(req["id"])
        try:
            names = [str(n) for n in req["datasets"]]
            if len(fds) != 4 + len(names):
                raise ValueError(f"expected {4 + len(names)} fds, got {len(fds)}")
            message = json.dumps({"id": run_id, "datasets": names}).encode()
            slot = self.pool.assign(run_id, message, fds, float(req["timeout"]))
        except Exception as exc:
            log("run_failed_to_start", id=run_id, error=str(exc))
            self.send({"event": "exit", "id": run_id, "error": f"could not start: {exc}"})
            return
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.send({"event": "started", "id": run_id, "pid": slot.pid})

    def reap(self) -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            slot = self.pool.slots.get(pid)
            if slot is not None and not self.features.get("pidns"):
                # Not reaped yet, so the group id cannot have been reused.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            if slot is not None:
                self.finish(slot, status, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)

    def finish(self, slot: Slot, status: int, cpu: float, maxrss: int) -> None:
        hit = self.pool.release(slot)
        if slot.run_id is None:  # an idle slot died: it could not prepare itself
            log("idle_slot_died", status=status)
            self.pool.back_off()
            return
        limits = list(hit)
        if slot.kill_reason:
            limits.append(slot.kill_reason)
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        cpu_limit = float(self.pool.limits["cpu_seconds"])
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_limit - 0.05):
            limits.append("cpu")
        self.send(
            {
                "event": "exit",
                "id": slot.run_id,
                "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": sig,
                "timed_out": slot.kill_reason == "timeout",
                "limits_hit": sorted(set(limits)),
                "cpu_seconds": round(cpu, 3),
                "max_rss_kb": maxrss,
                "wall_seconds": round(time.monotonic() - slot.started, 4),
            }
        )

    def handle(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, MAX_FDS)
        except (BlockingIOError, InterruptedError):
            return True
        if not data:
            return False  # the worker went away
        req = json.loads(data)
        if req.get("op") == "run":
            self.start_run(req, fds)
            return True
        for fd in fds:
            os.close(fd)
        if req.get("op") == "kill":
            slot = self.pool.by_run.get(str(req["id"]))
            if slot is not None:
                self.pool.kill(slot, str(req.get("reason", "killed")))
        return req.get("op") != "shutdown"

    def serve(self) -> None:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ, "sock")
        sel.register(wake_r, selectors.EVENT_READ, "wake")
        running = True
        while running:
            now = time.monotonic()
            busy = [s for s in self.pool.slots.values() if s.run_id and s.kill_reason is None]
            for slot in busy:
                if now >= slot.deadline:
                    self.pool.kill(slot, "timeout")
            self.pool.stale = [g for g in self.pool.stale if not g.remove()]
            # Refill only when nothing waits for us and no run is executing (or the
            # pool is empty): on a small machine a fork next to a running analysis
            # slows it down.
            executing = any(s.run_id for s in self.pool.slots.values())
            refill = self.pool.wants_refill(now) and (not executing or not self.pool.idle)
            waits = [s.deadline - now for s in busy if s.kill_reason is None]
            if refill:
                waits.append(0.0)
            elif self.pool.wants_refill(float("inf")) and now < self.pool.next_refill:
                waits.append(self.pool.next_refill - now)  # backing off after a failure
            if self.pool.stale:
                waits.append(1.0)  # retry removing cgroups of exited runs
            timeout = max(0.0, min(waits)) if waits else None
            events = sel.select(timeout)
            for key, _ in events:
                if key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    self.reap()
                elif not self.handle():
                    running = False
            self.reap()
            if running and not events and refill:
                self.pool.refill()
        self.pool.shutdown()


def python_binds(project_root: str | None) -> list[str]:
    """Directories the child needs read-only: /usr and the Python installation
    (stdlib and site-packages), never the project itself or the user's home."""
    wanted = {"/usr", os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    for entry in sys.path:
        if entry and os.path.isdir(entry) and "site-packages" in entry:
            wanted.add(os.path.realpath(entry))
    project = os.path.realpath(project_root) if project_root else None
    binds = sorted(
        p for p in wanted if p != "/" and (project is None or p != project)
        and not (project and project.startswith(p + "/"))
    )  # fmt: skip
    return [p for p in binds if not any(p.startswith(q + "/") for q in binds if q != p)]


def warm_up(preload: list[str]) -> list[str]:
    """Import the analysis stack and exercise the usual paths once, so children
    start with them compiled and cached (copy-on-write shared)."""
    loaded = []
    for name in preload:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception as exc:
            log("preload_failed", module=name, error=str(exc))
    exercise(full=True)
    gc.collect()
    gc.freeze()  # keep the shared heap out of the children's garbage collections
    return loaded


def main() -> None:
    started = time.monotonic()
    config = json.loads(sys.argv[1])
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the worker
    with contextlib.suppress(OSError):
        syscalls.prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1)
    null = os.open("/dev/null", os.O_WRONLY)
    os.dup2(null, 1)  # nothing may sit in a stdout buffer the children inherit
    os.close(null)
    loaded = warm_up(list(config.get("preload", [])))
    server = ForkServer(config)
    server.send(
        {
            "event": "hello",
            "pid": os.getpid(),
            "features": server.features,
            "errors": server.errors,
            "binds": server.pool.binds,
            "preloaded": loaded,
            "startup_seconds": round(time.monotonic() - started, 3),
        }
    )
    server.serve()
    shutil.rmtree(config["state_dir"], ignore_errors=True)


if __name__ == "__main__":
    main()
