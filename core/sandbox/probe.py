"""Which isolation features this kernel allows, found by trying each in a child.

Run once by the fork server at start (before it serves anything); every run then
applies exactly what worked, and the isolation report lists what did not.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from core.sandbox import seccomp, syscalls
from core.sandbox.jail import USERNS_UID, build_root, map_self_in_userns
from core.sandbox.syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
)


def _in_child(fn: Callable[[], None]) -> str | None:
    """Run ``fn`` in a forked child; None if it worked, else the error text."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_fd)
        code = 0
        try:
            fn()
        except BaseException as exc:
            os.write(write_fd, str(exc).encode()[:500])
            code = 1
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        message = fh.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return message or f"exit status {status}"


def probe(spec: dict[str, Any], pid_ns_fd: int | None) -> tuple[dict[str, bool], dict[str, str]]:
    """Which features work here; ``spec`` is a run spec with no datasets."""
    root = os.geteuid() == 0
    errors: dict[str, str] = {}
    features: dict[str, bool] = {"userns": False}
    uid = spec["uid"] if root else USERNS_UID

    def record(key: str, err: str | None) -> None:
        features[key] = err is None
        if err:
            errors[key] = err

    def enter_userns() -> None:
        # Without root every other namespace needs a user namespace first.
        if not root:
            syscalls.unshare(CLONE_NEWUSER)
            map_self_in_userns()

    def try_net() -> None:
        enter_userns()
        syscalls.unshare(CLONE_NEWNET)

    def try_ipc() -> None:
        enter_userns()
        syscalls.unshare(CLONE_NEWIPC | CLONE_NEWUTS)

    def try_mount() -> None:
        enter_userns()
        syscalls.unshare(CLONE_NEWNS)
        build_root(spec, uid, uid, with_proc=False)

    def try_uid() -> None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)

    def try_nnp() -> None:
        syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)

    def try_seccomp() -> None:
        try_nnp()
        seccomp.install()

    def am_pid_one() -> None:
        if os.getpid() != 1:
            raise OSError("not PID 1 in the new namespace")

    if not root:
        record("userns", _in_child(enter_userns))
    record("netns", _in_child(try_net))
    record("ipcns", _in_child(try_ipc))
    record("mountns", _in_child(try_mount))
    record("uid", _in_child(try_uid) if root else "not running as root")
    record("no_new_privs", _in_child(try_nnp))
    record("seccomp", _in_child(try_seccomp))
    if pid_ns_fd is None:
        record("pidns", "cannot open /proc/self/ns/pid")
    else:
        try:
            syscalls.unshare(syscalls.CLONE_NEWPID)
            try:
                record("pidns", _in_child(am_pid_one))
            finally:
                syscalls.setns(pid_ns_fd, syscalls.CLONE_NEWPID)
        except OSError as exc:
            record("pidns", str(exc))
    return features, errors
