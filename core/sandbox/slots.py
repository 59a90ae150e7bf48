"""The fork server's pool of prepared children ("slots") and the runs they carry.

A slot is forked ahead of time into a fresh PID namespace (it is that namespace's
PID 1, so killing it kills everything the run starts) with its own pids/memory
cgroup and unprivileged uid, and isolates itself while idle. A run takes an idle
slot (or forks one on the spot when the pool is empty), gets a deadline, and ends
when the slot exits; then its cgroup, uid and scratch dir are released.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.sandbox import child, syscalls
from core.sandbox.cgroups import RunCgroup


@dataclass
class Slot:
    pid: int
    uid: int
    sock: socket.socket | None
    cgroup: RunCgroup | None
    workdir: str | None
    run_id: str | None = None
    deadline: float = float("inf")
    kill_reason: str | None = None
    started: float = field(default_factory=time.monotonic)


class SlotPool:
    def __init__(
        self,
        *,
        config: dict[str, Any],
        features: dict[str, bool],
        cgroups: dict[str, Any],
        binds: list[str],
        pid_ns_fd: int | None,
        log: Callable[..., None],
    ) -> None:
        self.config = config
        self.limits: dict[str, Any] = dict(config["limits"])
        # With a pids cgroup (per run, precise, reported) RLIMIT_NPROC is only the
        # backstop, so it gets some headroom; without one it is the limit.
        self.limits["nproc"] = int(self.limits["max_processes"]) + (8 if "pids" in cgroups else 0)
        self.features = features
        self.cgroups = cgroups
        self.binds = binds
        self.pid_ns_fd = pid_ns_fd
        self.log = log
        self.size = max(1, int(config.get("pool_size", 2)))
        self.idle: deque[Slot] = deque()
        self.slots: dict[int, Slot] = {}
        self.by_run: dict[str, Slot] = {}
        self.uids_in_use: set[int] = set()
        count = int(config.get("uid_count", 1000))
        self.next_uid = int.from_bytes(os.urandom(2), "little") % count
        self.stale: list[RunCgroup] = []
        self.next_refill = 0.0

    def base_spec(self, uid: int, workdir: str | None, procs: list[str]) -> dict[str, Any]:
        state = self.config["state_dir"]
        return {
            "uid": uid, "gid": uid, "limits": self.limits, "cgroup_procs": procs,
            "binds": self.binds, "newroot": f"{state}/root", "workdir": workdir,
        }  # fmt: skip

    def _allocate_uid(self) -> int:
        # Rotate through the range so a uid is not reused right after a run that
        # may (without a PID namespace) have left a process behind.
        count = int(self.config.get("uid_count", 1000))
        for _ in range(count):
            uid = int(self.config["uid_base"]) + self.next_uid
            self.next_uid = (self.next_uid + 1) % count
            if uid not in self.uids_in_use:
                self.uids_in_use.add(uid)
                return uid
        raise RuntimeError("no free sandbox uid")

    def spawn(self, *, warm: bool = True) -> Slot:
        """Fork one prepared child (it isolates itself while we return). ``warm``
        slots also run a small analysis while idle (see ``warm.py``); a slot forked
        for a run that is already waiting skips that."""
        name = uuid.uuid4().hex[:16]
        uid = self._allocate_uid()
        group: RunCgroup | None = None
        workdir: str | None = None
        ours: socket.socket | None = None
        try:
            if self.cgroups:
                group = RunCgroup.create(
                    self.cgroups, f"nexus-sbx-{name}",
                    max_pids=int(self.limits["max_processes"]),
                    memory_bytes=int(self.limits["memory_bytes"]),
                )  # fmt: skip
            if not self.features.get("mountns"):
                workdir = f"{self.config['state_dir']}/work/{name}"
                os.mkdir(workdir, 0o700)
                os.chown(workdir, uid, uid)
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            spec = self.base_spec(uid, workdir, group.procs if group else [])
            spec["warm"] = warm
            pid = self._fork(theirs, spec)
            theirs.close()
        except Exception:
            self.uids_in_use.discard(uid)
            if ours is not None:
                ours.close()
            if group is not None:
                group.remove()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            raise
        slot = Slot(pid, uid, ours, group, workdir)
        self.slots[pid] = slot
        return slot

    def _fork(self, theirs: socket.socket, spec: dict[str, Any]) -> int:
        if not syscalls.is_single_threaded():
            self.log("warning_not_single_threaded")
        use_pidns = bool(self.features.get("pidns")) and self.pid_ns_fd is not None
        if use_pidns:
            syscalls.unshare(syscalls.CLONE_NEWPID)  # applies to the next child only
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child never returns
                child.slot_main(theirs, spec, self.features)
        finally:
            if use_pidns and self.pid_ns_fd is not None:
                syscalls.setns(self.pid_ns_fd, syscalls.CLONE_NEWPID)
        return pid

    def wants_refill(self, now: float) -> bool:
        return len(self.idle) < self.size and now >= self.next_refill

    def back_off(self) -> None:
        """After a failure, wait a second before forking again (no busy loop)."""
        self.next_refill = time.monotonic() + 1.0

    def refill(self) -> bool:
        """Fork one idle slot if the pool is short; True if it did."""
        if not self.wants_refill(time.monotonic()):
            return False
        try:
            self.idle.append(self.spawn())
        except Exception as exc:
            self.log("slot_spawn_failed", error=str(exc))
            self.back_off()
            return False
        return True

    def assign(self, run_id: str, message: bytes, fds: list[int], timeout: float) -> Slot:
        """Hand a run to an idle slot, or to a freshly forked one if none takes it."""
        while self.idle:
            slot = self.idle.popleft()
            if self._hand_over(slot, message, fds):
                break
            self.kill(slot, "unusable")  # it died while idle; reaped later
        else:
            slot = self.spawn(warm=False)
            if not self._hand_over(slot, message, fds):
                self.kill(slot, "unusable")
                raise RuntimeError("a freshly forked slot did not take the run")
        slot.run_id, slot.started = run_id, time.monotonic()
        slot.deadline = slot.started + timeout
        self.by_run[run_id] = slot
        return slot

    @staticmethod
    def _hand_over(slot: Slot, message: bytes, fds: list[int]) -> bool:
        assert slot.sock is not None
        try:
            socket.send_fds(slot.sock, [message], fds)
            return True
        except OSError:
            return False
        finally:
            slot.sock.close()  # one message per slot: the run, and nothing after
            slot.sock = None

    def kill(self, slot: Slot, reason: str) -> None:
        if slot.kill_reason is None:
            slot.kill_reason = reason
        # PID 1 of its namespace: the kernel kills every process in it. Not reaped
        # yet (we are its parent), so the pid cannot have been reused.
        with contextlib.suppress(ProcessLookupError):
            os.kill(slot.pid, signal.SIGKILL)
        if not self.features.get("pidns"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(slot.pid, signal.SIGKILL)
        if slot.cgroup is not None:
            slot.cgroup.kill_all()

    def release(self, slot: Slot) -> list[str]:
        """After the slot exited: free everything; returns cgroup limits it hit."""
        self.slots.pop(slot.pid, None)
        if slot.run_id is not None:
            self.by_run.pop(slot.run_id, None)
        with contextlib.suppress(ValueError):
            self.idle.remove(slot)
        if slot.sock is not None:
            slot.sock.close()
        hit: list[str] = []
        if slot.cgroup is not None:
            hit = slot.cgroup.limits_hit()
            slot.cgroup.kill_all()
            if not slot.cgroup.remove():
                self.stale.append(slot.cgroup)
        if slot.workdir:
            shutil.rmtree(slot.workdir, ignore_errors=True)
        self.uids_in_use.discard(slot.uid)
        return hit

    def shutdown(self) -> None:
        """Kill every slot, reap it, and leave no cgroup directory behind."""
        for slot in list(self.slots.values()):
            self.kill(slot, "shutdown")
        for slot in list(self.slots.values()):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(slot.pid, 0)
            self.release(slot)
        for _ in range(200):  # rmdir fails while exiting tasks still hold the group
            self.stale = [g for g in self.stale if not g.remove()]
            if not self.stale:
                break
            time.sleep(0.01)
