"""``nexus sandbox check``: prove on this host what the sandbox actually enforces.

Each check runs a small, bounded program through the real backend (same limits,
same path as a worker) and judges the outcome; nothing here is unbounded, so the
check is safe to run on a production host even where isolation is missing.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from core.sandbox.forkclient import PROJECT_ROOT
from core.sandbox.isolation import IsolationReport
from core.sandbox.protocol import Sandbox, SandboxResult, SandboxRun

_SECRETISH = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|DSN|CREDENTIAL", re.IGNORECASE)


class Check(BaseModel):
    area: str
    name: str
    enforced: bool
    detail: str


class SelfTestReport(BaseModel):
    backend: str
    isolation: IsolationReport
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.enforced for c in self.checks)


def _line(res: SandboxResult) -> str:
    if res.error is not None:
        return f"{res.error.type}: {res.error.message}"[:200]
    return res.stdout.strip()[:200]


async def run_self_test(sandbox: Sandbox, *, data_dir: Path | None = None) -> SelfTestReport:
    await sandbox.start()
    lim = getattr(sandbox, "limits", None)
    mem_mb = getattr(lim, "memory_mb", 1024)
    nproc = getattr(lim, "max_processes", 32)
    nofile = getattr(lim, "max_open_files", 128)
    fsize_mb = getattr(lim, "max_file_mb", 64)
    cpu = getattr(lim, "cpu_seconds", 30)

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    project_file = PROJECT_ROOT / "pyproject.toml"
    data_probe = (data_dir or PROJECT_ROOT / ".nexus").resolve()

    def connect_code(host: str, port: int) -> str:
        return (
            "import socket\n"
            f"try:\n    socket.create_connection(({host!r}, {port}), timeout=2)\n"
            "    print('CONNECTED')\nexcept OSError as e:\n    print('blocked:', e)"
        )

    checks: list[tuple[str, str, SandboxRun, Callable[[SandboxResult], bool]]] = [
        ("network", "no connection to a listener on the host's 127.0.0.1",
         SandboxRun(code=connect_code("127.0.0.1", port), check_code=False),
         lambda r: r.stdout.startswith("blocked")),
        ("network", "no connection to an outside address (1.1.1.1:443)",
         SandboxRun(code=connect_code("1.1.1.1", 443), check_code=False),
         lambda r: r.stdout.startswith("blocked")),
        ("network", "no DNS resolution",
         SandboxRun(code="import socket\ntry:\n    socket.getaddrinfo('example.com', 443)\n"
                         "    print('RESOLVED')\nexcept OSError as e:\n    print('blocked:', e)",
                    check_code=False),
         lambda r: r.stdout.startswith("blocked")),
        ("filesystem", f"project files are not visible ({project_file})",
         SandboxRun(code=f"import os\nprint(os.path.exists({str(project_file)!r}))",
                    check_code=False),
         lambda r: r.stdout.strip() == "False"),
        ("filesystem", f"the data dir is not visible ({data_probe})",
         SandboxRun(code=f"import os\nprint(os.path.exists({str(data_probe)!r}))",
                    check_code=False),
         lambda r: r.stdout.strip() == "False"),
        ("filesystem", "host secrets are not readable (/etc/shadow, /root/.ssh)",
         SandboxRun(code="import os\nprint([p for p in ('/etc/shadow', '/root/.ssh')"
                         " if os.access(p, os.R_OK)])", check_code=False),
         lambda r: r.stdout.strip() == "[]"),
        ("filesystem", "system directories are read-only",
         SandboxRun(code="try:\n    open('/usr/nexus-check', 'w')\n    print('WROTE')\n"
                         "except OSError as e:\n    print('blocked:', e)", check_code=False),
         lambda r: r.stdout.startswith("blocked")),
        ("environment", "no secrets in the environment",
         SandboxRun(code="import os\nprint(sorted(os.environ))", check_code=False),
         lambda r: r.error is None and not _SECRETISH.search(r.stdout)),
        ("user", "code runs without root",
         SandboxRun(code="import os\nprint(os.geteuid())", check_code=False),
         lambda r: r.error is None and r.stdout.strip() not in ("0", "")),
        ("syscalls", "cannot create namespaces (user namespace via unshare)",
         SandboxRun(code="import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                         "print(libc.unshare(0x10000000))", check_code=False),
         lambda r: r.stdout.strip() == "-1"),
        ("limits", f"memory is capped ({mem_mb} MiB)",
         SandboxRun(code=f"b = bytearray({mem_mb + 64} * 1024 * 1024)\n"
                         f"for i in range(0, len(b), 4096):\n    b[i] = 1\nprint('ALLOCATED')",
                    check_code=False),
         lambda r: "memory" in r.limits_hit and "ALLOCATED" not in r.stdout),
        ("limits", f"processes are capped ({nproc})",
         SandboxRun(code="import os, time\nn = 0\n"
                         f"for _ in range({nproc * 3}):\n    try:\n        pid = os.fork()\n"
                         "    except OSError:\n        break\n"
                         "    if pid == 0:\n        time.sleep(3); os._exit(0)\n    n += 1\n"
                         "print(n)", check_code=False, timeout=10),
         lambda r: r.stdout.strip().isdigit() and int(r.stdout) < nproc * 3),
        ("limits", f"open files are capped ({nofile})",
         SandboxRun(code=f"fs = []\ntry:\n    for _ in range({nofile * 4}):\n"
                         "        fs.append(open('/dev/null'))\n    print('OPENED')\n"
                         "except OSError as e:\n    print('blocked:', e)", check_code=False),
         lambda r: r.stdout.startswith("blocked")),
        ("limits", f"file size is capped ({fsize_mb} MiB)",
         SandboxRun(code=f"try:\n    open('big', 'wb').write(b'x' * ({fsize_mb} + 1) * 2**20)\n"
                         "    print('WROTE')\nexcept OSError as e:\n    print('blocked:', e)",
                    check_code=False),
         lambda r: r.stdout.startswith("blocked")),
        ("limits", f"CPU time is capped ({cpu} s)",
         SandboxRun(code="import resource\nprint(resource.getrlimit(resource.RLIMIT_CPU)[0])",
                    check_code=False),
         lambda r: r.stdout.strip() == str(cpu)),
        ("limits", "wall-clock timeout kills the run",
         SandboxRun(code="import time\ntime.sleep(30)", timeout=1.0, check_code=False),
         lambda r: r.timed_out),
    ]  # fmt: skip
    try:
        results = await asyncio.gather(*(sandbox.run(run) for _, _, run, _ in checks))
        reached = _accepted(listener)
    finally:
        listener.close()
    out = []
    for (area, name, _, judge), res in zip(checks, results, strict=True):
        ok = judge(res) and not (area == "network" and "127.0.0.1" in name and reached)
        out.append(Check(area=area, name=name, enforced=ok, detail=_line(res)))
    return SelfTestReport(backend=sandbox.name, isolation=sandbox.report(), checks=out)


def _accepted(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def host_secret_names() -> list[str]:
    """Names of secret-looking variables in *this* process (never their values)."""
    return sorted(k for k in os.environ if _SECRETISH.search(k))
