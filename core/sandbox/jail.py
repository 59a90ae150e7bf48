"""Inside the forked child: enter namespaces, build a private root, drop privileges.

In two phases, because the first can happen before a run exists (the fork server
keeps a few children prepared, so a run skips fork, cgroup migration and mounts):

``prepare`` (root, no run yet)
  join the slot's cgroups and volunteer for the OOM killer; unshare mount/net/ipc/
  uts (the PID namespace came with the fork); build a tmpfs root with read-only
  binds of /usr and the Python installation, a fresh /proc and an empty
  ``/home/user``; pivot_root into it and detach the old root, so no host path is
  reachable any more.

``copy_in`` + ``lock_down`` (the run has arrived)
  copy the datasets in from file descriptors the worker opened (no host path is
  needed); set rlimits; switch to the slot's unprivileged uid (RLIMIT_NPROC now
  applies, capabilities are gone); no_new_privs, not dumpable, parent-death signal;
  and last the seccomp filter, because it forbids the mounts above.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
from typing import Any

from core.sandbox import seccomp, syscalls
from core.sandbox.syscalls import (
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
)

HOME = "/home/user"
USERNS_UID = 1000
_DEVICES = ("null", "zero", "full", "random", "urandom")
_ETC_BINDS = ("/etc/ld.so.cache", "/etc/localtime")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def unshare_flags(features: dict[str, bool]) -> int:
    flags = 0
    if features.get("userns"):
        flags |= CLONE_NEWUSER
    if features.get("mountns"):
        flags |= CLONE_NEWNS
    if features.get("netns"):
        flags |= CLONE_NEWNET
    if features.get("ipcns"):
        flags |= CLONE_NEWIPC | CLONE_NEWUTS
    return flags


def map_self_in_userns() -> None:
    # An unprivileged process may map exactly its own uid; it keeps the
    # capabilities unshare gave it until drop_capabilities() below.
    euid, egid = os.geteuid(), os.getegid()
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{USERNS_UID} {euid} 1")
    _write("/proc/self/gid_map", f"{USERNS_UID} {egid} 1")


def _bind(source: str, target: str, *, readonly: bool = True) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    syscalls.mount(source, target, None, MS_BIND | MS_REC)
    if readonly:
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
        syscalls.mount(None, target, None, flags)


def build_root(spec: dict[str, Any], uid: int, gid: int, *, with_proc: bool) -> None:
    """Make ``spec['newroot']`` the whole visible filesystem of this process."""
    root = spec["newroot"]
    syscalls.mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing propagates back
    size = spec["limits"]["disk_bytes"]
    syscalls.mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=755")
    for path in spec["binds"]:
        _bind(path, root + path)
    for name in ("bin", "lib", "lib64", "sbin"):
        host = "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), f"{root}/{name}")
        elif os.path.isdir(host):
            _bind(host, f"{root}/{name}")
    os.makedirs(f"{root}/etc", exist_ok=True)
    for path in _ETC_BINDS:
        if os.path.exists(path):
            _bind(os.path.realpath(path), root + path)
    _write(f"{root}/etc/passwd", f"user:x:{uid}:{gid}:sandbox:{HOME}:/bin/sh\n")
    _write(f"{root}/etc/group", f"user:x:{gid}:\n")
    _write(f"{root}/etc/hosts", "127.0.0.1 localhost sandbox\n")
    os.makedirs(f"{root}/dev/shm", exist_ok=True)
    os.chmod(f"{root}/dev/shm", 0o1777)
    for dev in _DEVICES:
        _bind(f"/dev/{dev}", f"{root}/dev/{dev}", readonly=False)
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{root}/dev/{name}")
    os.symlink("/proc/self/fd", f"{root}/dev/fd")
    # exist_ok throughout: a bind above may already have made the directory (a venv
    # under /tmp or /home, the usual place of a CI checkout).
    os.makedirs(f"{root}/tmp", exist_ok=True)
    os.chmod(f"{root}/tmp", 0o1777)
    home = root + HOME
    os.makedirs(home, exist_ok=True)
    os.chown(home, uid, gid)
    os.chmod(home, 0o700)
    if with_proc:
        os.makedirs(f"{root}/proc", exist_ok=True)
        syscalls.mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.chdir(root)
    syscalls.pivot_root(".", ".")  # stack the new root on top of the old one ...
    syscalls.umount2(".", MNT_DETACH)  # ... and drop the old one from this namespace
    os.chdir(HOME)


def copy_in(datasets: list[tuple[int, str]], uid: int, gid: int) -> None:
    """Copy each dataset (an fd opened by the worker) into the work dir; close the fds."""
    for fd, name in datasets:
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"bad dataset name {name!r}")
        out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            size = os.fstat(fd).st_size
            offset = 0
            while offset < size:
                sent = os.sendfile(out, fd, offset, size - offset)
                if sent == 0:
                    break
                offset += sent
            os.fchown(out, uid, gid)
        finally:
            os.close(out)
            os.close(fd)


def set_rlimits(limits: dict[str, Any]) -> None:
    def cap(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    cap(resource.RLIMIT_NPROC, int(limits.get("nproc", limits["max_processes"])))
    cap(resource.RLIMIT_NOFILE, int(limits["max_open_files"]))
    cap(resource.RLIMIT_FSIZE, int(limits["max_file_bytes"]))
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_MEMLOCK, 0)
    # The warm parent already maps a lot of address space (libraries, arenas);
    # allow the configured memory on top of what this process starts with.
    cap(resource.RLIMIT_AS, _vm_size() + int(limits["memory_bytes"]))


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def join_cgroups(procs: list[str]) -> None:
    for path in procs:
        _write(path, "0")


def slot_ids(spec: dict[str, Any], features: dict[str, bool]) -> tuple[int, int]:
    """The uid/gid the code runs as, as seen inside this process's namespaces."""
    if features.get("userns"):
        return USERNS_UID, USERNS_UID
    return spec["uid"], spec["gid"]


def prepare(spec: dict[str, Any], features: dict[str, bool]) -> None:
    """Phase one, as root and before any run: namespaces, cgroups, private root."""
    os.setsid()
    join_cgroups(spec["cgroup_procs"])
    with contextlib.suppress(OSError):
        _write("/proc/self/oom_score_adj", "1000")  # if the host runs short, die first
    syscalls.unshare(unshare_flags(features))
    if features.get("userns"):
        map_self_in_userns()
    uid, gid = slot_ids(spec, features)
    if features.get("mountns"):
        build_root(spec, uid, gid, with_proc=features.get("pidns", False))
    else:
        os.chdir(spec["workdir"])
    if features.get("ipcns"):
        syscalls.sethostname("sandbox")


def lock_down(spec: dict[str, Any], features: dict[str, bool]) -> None:
    """Phase two, once the datasets are in: limits, unprivileged uid, seccomp."""
    uid, gid = slot_ids(spec, features)
    set_rlimits(spec["limits"])
    if features.get("uid"):
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    if features.get("userns"):
        syscalls.drop_capabilities()
    # Not dumpable: /proc/self/{mem,environ,...} become root's, out of the code's reach.
    syscalls.prctl(syscalls.PR_SET_DUMPABLE, 0)
    if features.get("no_new_privs"):
        syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
    # Set after the uid switch, which clears it: die with the fork server.
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    if features.get("seccomp"):
        seccomp.install()
