"""A small seccomp deny-list for sandboxed code (x86_64).

The namespaces and the unprivileged uid are the boundary; this filter shrinks the
kernel surface behind it: no new namespaces (a user namespace would hand the code
capabilities again), no mount/pivot_root/chroot, no ptrace or cross-process memory
access, no bpf/perf/keyctl/userfaultfd/io_uring, no module or kexec calls.
``clone3`` answers ENOSYS so libc falls back to ``clone``, whose flags we can see.
"""

from __future__ import annotations

import ctypes
import errno
import platform

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000

# x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl).
_DENY_X86_64 = {
    "ptrace": 101,
    "syslog": 103,
    "personality": 135,
    "vhangup": 153,
    "pivot_root": 155,
    "adjtimex": 159,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
}
_CLONE_X86_64 = 56
_CLONE3_X86_64 = 435
_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET}

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def supported() -> bool:
    return platform.machine() == "x86_64"


def denied_syscalls() -> list[str]:
    return sorted([*_DENY_X86_64, "clone(CLONE_NEW*)", "clone3"])


def _program() -> list[tuple[int, int, int, int]]:
    deny = sorted(_DENY_X86_64.values())
    # Layout: [arch check][nr checks...][clone3][clone][flag check] allow deny enosys
    n_checks = len(deny)
    prog: list[tuple[int, int, int, int]] = [
        (_LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (_JEQ_K, 1, 0, _AUDIT_ARCH_X86_64),
        (_RET_K, 0, 0, _RET_KILL_PROCESS),
        (_LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
    ]
    # Index of the "allow" instruction, counted from the first check below.
    after_checks = 1 + n_checks + 1 + 1 + 2  # x32 + deny list + clone3 + clone + (ld, jset)
    allow_at = after_checks
    deny_at = allow_at + 1
    enosys_at = allow_at + 2
    pos = 0

    def jump(target: int) -> int:
        return target - pos - 1

    prog.append((_JGE_K, jump(deny_at), 0, _X32_SYSCALL_BIT))
    pos += 1
    for nr in deny:
        prog.append((_JEQ_K, jump(deny_at), 0, nr))
        pos += 1
    prog.append((_JEQ_K, jump(enosys_at), 0, _CLONE3_X86_64))
    pos += 1
    prog.append((_JEQ_K, 0, jump(allow_at), _CLONE_X86_64))
    pos += 1
    prog.append((_LD_W_ABS, 0, 0, 16))  # low 32 bits of args[0]: the clone flags
    pos += 1
    prog.append((_JSET_K, jump(deny_at), jump(allow_at), _NAMESPACE_FLAGS))
    pos += 1
    assert pos == allow_at
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    prog.append((_RET_K, 0, 0, _RET_ERRNO | errno.EPERM))
    prog.append((_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS))
    return prog


def install() -> None:
    """Install the filter on this (single-threaded) process; needs no_new_privs set."""
    if not supported():
        raise OSError(errno.ENOSYS, f"seccomp filter not available on {platform.machine()}")
    insns = _program()
    array = (_SockFilter * len(insns))(*[_SockFilter(*i) for i in insns])
    prog = _SockFprog(len(insns), array)
    libc = ctypes.CDLL(None, use_errno=True)
    ret = libc.prctl(
        ctypes.c_int(_PR_SET_SECCOMP),
        ctypes.c_ulong(_SECCOMP_MODE_FILTER),
        ctypes.byref(prog),
        ctypes.c_ulong(0),
        ctypes.c_ulong(0),
    )
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {errno.errorcode.get(err, err)}")
