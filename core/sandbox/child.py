"""The forked child ("slot"): get isolated, wait for a run, run it, report, exit.

A slot is forked from the warm fork server ahead of time and does the expensive,
run-independent isolation work (:func:`core.sandbox.jail.prepare`) while idle.
When a run arrives on its socket (JSON plus fds: stdout, stderr and result pipes,
a memfd with the code, one fd per dataset) it copies the datasets in, locks itself
down and executes the code. The fork server never holds user code or data.

Nothing here returns: the process ends with ``os._exit`` so no inherited cleanup
(atexit, buffered files of the server) runs twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import resource
import signal
import socket
import sys
import time
from typing import Any, NoReturn

from core.sandbox import jail, runtime, syscalls
from core.sandbox.warm import exercise

SANDBOX_ENV = {
    "HOME": jail.HOME,
    "USER": "user",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "TMPDIR": "/tmp",
    "MPLBACKEND": "Agg",
}
SLOT_FD = 3
MAX_RUN_MESSAGE = 256 * 1024
MAX_FDS = 4 + 64


def _write_line(fd: int, obj: dict[str, Any]) -> None:
    data = (json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _close_all_but(keep: dict[int, int]) -> None:
    """Move ``keep`` (fd -> wanted number) into place and close every other fd."""
    high = {want: fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd, want in keep.items()}
    for want, fd in high.items():
        os.dup2(fd, want)
    top = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1 << 20)
    os.closerange(max(keep.values()) + 1, top)
    for fd in range(max(keep.values())):
        if fd not in keep.values():
            with contextlib.suppress(OSError):
                os.close(fd)


def _reset_interpreter(spec: dict[str, Any]) -> None:
    os.environ.clear()  # also clears the C-level environ (unsetenv)
    os.environ.update(SANDBOX_ENV)
    allowed = tuple(spec["binds"])
    sys.path[:] = [p for p in sys.path if p and p.startswith(allowed)]
    sys.argv[:] = ["analysis"]
    # Fresh stream objects on fds 1 and 2, unbuffered so a killed run still shows
    # what it printed up to the kill.
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
        write_through=True,
    )  # fmt: skip
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
        write_through=True,
    )  # fmt: skip
    np = sys.modules.get("numpy")
    if np is not None:  # every child would otherwise draw the same "random" numbers
        np.random.seed(int.from_bytes(os.urandom(4), "little"))


def _on_sigxcpu(signum: int, frame: Any) -> None:
    raise runtime.CPUTimeExceeded("CPU time limit exceeded")


def slot_main(slot: socket.socket, spec: dict[str, Any], features: dict[str, bool]) -> NoReturn:
    """Entry point in the child right after ``fork``; ``slot`` talks to the server."""
    try:
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # EPIPE as an error, like Python
        signal.set_wakeup_fd(-1)
        # Only stderr (server log) and the slot socket survive: not the control
        # socket, not other slots' sockets, not the server's library fds.
        _close_all_but({2: 2, slot.detach(): SLOT_FD})
        slot = socket.socket(fileno=SLOT_FD)
        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)  # idle, die with the server
        jail.prepare(spec, features)
        if spec.get("warm"):
            exercise()  # take the usual copy-on-write faults now, not on a run's clock
    except BaseException:
        os._exit(70)  # the server sees an idle slot die and reports the error on use
    try:
        message, fds, _, _ = socket.recv_fds(slot, MAX_RUN_MESSAGE, MAX_FDS)
    except OSError:
        os._exit(0)
    if not message:
        os._exit(0)  # the server closed the slot: shutdown
    _run(json.loads(message), fds, spec, features)


def _run(
    run: dict[str, Any], fds: list[int], spec: dict[str, Any], features: dict[str, bool]
) -> NoReturn:
    out, code_rc = fds[2], 0
    try:
        names = list(run["datasets"])
        uid, gid = jail.slot_ids(spec, features)
        jail.copy_in(list(zip(fds[4:], names, strict=True)), uid, gid)
        null = os.open("/dev/null", os.O_RDONLY)
        # stdin from /dev/null, stdout/stderr onto the pipes, result pipe on 3, code on 4.
        _close_all_but({null: 0, fds[0]: 1, fds[1]: 2, fds[2]: 3, fds[3]: 4})
        out = 3
        jail.lock_down(spec, features)
        with os.fdopen(4, "rb") as fh:
            code = fh.read().decode("utf-8", errors="replace")
        os.set_inheritable(out, False)
        _reset_interpreter(spec)
        signal.signal(signal.SIGXCPU, _on_sigxcpu)
    except BaseException as exc:  # the sandbox could not be set up: say why, run nothing
        with contextlib.suppress(Exception):
            _write_line(out, {"final": True, "setup_error": f"{type(exc).__name__}: {exc}"})
        os._exit(70)
    try:
        started = time.monotonic()
        before = runtime.snapshot(".")

        def emit(item: dict[str, Any]) -> None:
            _write_line(out, item)

        error = runtime.execute(code, emit, max_rows=int(spec["limits"]["max_table_rows"]))
        signal.signal(signal.SIGXCPU, signal.SIG_DFL)
        # Files travel base64 on the result pipe: keep them well inside its cap.
        budget = int(spec["limits"]["max_result_bytes"]) // 2
        files, skipped = runtime.collect_files(before, ".", max_bytes=budget)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        _write_line(
            out,
            {
                "final": True,
                "error": error,
                "files": files,
                "skipped_files": skipped,
                "elapsed": time.monotonic() - started,
            },
        )
    except BaseException as exc:
        code_rc = 71
        with contextlib.suppress(BaseException):
            _write_line(out, {"final": True, "error": runtime._error(exc), "files": []})
    # Close our ends first so the worker sees EOF without waiting for teardown.
    for fd in (out, 1, 2):
        with contextlib.suppress(OSError):
            os.close(fd)
    os._exit(code_rc)
