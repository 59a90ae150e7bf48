"""Hostile programs and the outcome each must have. Code templates are filled with
``ctx`` (listener ports, canary secret, host paths) by the test module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.sandbox.protocol import SandboxResult


@dataclass(frozen=True)
class Hostile:
    id: str
    code: str
    check: Callable[[SandboxResult, dict[str, Any]], None]
    timeout: float | None = None


def _err(res: SandboxResult) -> str:
    return f"{res.error.type}: {res.error.message}" if res.error else "no error"


def error_is(*types: str, contains: str = "") -> Callable[[SandboxResult, dict[str, Any]], None]:
    def check(res: SandboxResult, ctx: dict[str, Any]) -> None:
        assert res.error is not None, f"expected {types}, got success: {res.stdout[:500]}"
        assert res.error.type in types, _err(res)
        assert contains in res.error.message, _err(res)

    return check


def prints(expected: str) -> Callable[[SandboxResult, dict[str, Any]], None]:
    def check(res: SandboxResult, ctx: dict[str, Any]) -> None:
        assert res.error is None, _err(res)
        assert res.stdout.strip() == expected.format(**ctx), res.stdout[:2000]

    return check


def limit(name: str, error_type: str) -> Callable[[SandboxResult, dict[str, Any]], None]:
    def check(res: SandboxResult, ctx: dict[str, Any]) -> None:
        assert name in res.limits_hit, (res.limits_hit, _err(res))
        assert res.error is not None and res.error.type == error_type, _err(res)

    return check


def limits_include(name: str) -> Callable[[SandboxResult, dict[str, Any]], None]:
    def check(res: SandboxResult, ctx: dict[str, Any]) -> None:
        assert name in res.limits_hit, (res.limits_hit, _err(res))

    return check


def no_files_returned(res: SandboxResult, ctx: dict[str, Any]) -> None:
    assert res.error is None and res.stdout == "ok\n", _err(res)
    assert res.files == {}, list(res.files)


def only_real_result(res: SandboxResult, ctx: dict[str, Any]) -> None:
    got = [r.model_dump(include={"kind", "value"}) for r in res.results]
    assert got == [{"kind": "scalar", "value": 42}], got


# The secret never appears in code: programs look for the prefix and compare a hash
# of what follows with the canary's, so the needle itself never exists in memory.
_FIND_SECRET = (
    "import hashlib\n"
    "def has_secret(blob):\n"
    "    if isinstance(blob, str): blob = blob.encode('utf-8', 'replace')\n"
    "    start = blob.find(b'nexus-canary-')\n"
    "    while start != -1:\n"
    "        if hashlib.sha256(blob[start:start + 37]).hexdigest() == '{canary_sha}': return True\n"
    "        start = blob.find(b'nexus-canary-', start + 1)\n"
    "    return False\n"
)

# Each program prints one verdict line (or raises); the check pins the exact outcome.
PROGRAMS: list[Hostile] = [
    # ------------------------------------------------------------ host files
    Hostile(
        "read-etc-passwd",
        "print('root:' in open('/etc/passwd').read(), open('/etc/passwd').read().count('\\n'))",
        prints("False 1"),
    ),
    Hostile("read-etc-shadow", "open('/etc/shadow').read()", error_is("FileNotFoundError")),
    Hostile(
        "read-ssh-host-key",
        "open('/etc/ssh/ssh_host_rsa_key').read()",
        error_is("FileNotFoundError"),
    ),
    Hostile(
        "read-project-env-and-source",
        "import os\n"
        "print([os.path.exists(p) for p in ('{project}/.env', '{project}/pyproject.toml',"
        " '{project}/core/settings.py', '{project}/.git')])",
        prints("[False, False, False, False]"),
    ),
    Hostile(
        "list-project-dir",
        "import os\np = '{project}'\nprint(sorted(os.listdir(p)) if os.path.exists(p) else [])",
        prints("{project_listing}"),
    ),
    Hostile(
        "read-data-dir-canary",
        "open('{host_secret_file}').read()",
        error_is("FileNotFoundError"),
    ),
    Hostile(
        "list-root-home",
        "import os\nprint(sorted(os.listdir('/root')) if os.path.exists('/root') else [])",
        prints("{root_home_listing}"),
    ),
    Hostile(
        "list-filesystem-root",
        "import os\nprint(sorted(os.listdir('/')))",
        prints("{root_listing}"),
    ),
    Hostile("host-sys", "import os\nos.listdir('/sys')", error_is("FileNotFoundError")),
    Hostile("host-block-device", "open('/dev/vda','rb').read(512)", error_is("FileNotFoundError")),
    Hostile(
        "host-processes-invisible",
        "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))",
        prints("[1]"),
    ),
    # ------------------------------------------------------------ writing outside
    Hostile(
        "write-usr", "open('/usr/lib/nexus-evil','w')", error_is("OSError", contains="Read-only")
    ),
    Hostile(
        "write-venv",
        "open('{project}/.venv/lib/python3.11/site-packages/nexus_evil.py','w')",
        error_is("OSError", contains="Read-only"),
    ),
    Hostile("write-etc", "open('/etc/cron.d-evil','w')", error_is("PermissionError")),
    Hostile("write-root-of-fs", "open('/evil','w')", error_is("PermissionError")),
    Hostile(
        "symlink-host-file-into-results",
        "import os\nos.symlink('/etc/shadow', 'shadow.txt')\nos.symlink('/etc', 'etc_link')\n"
        "print('ok')",
        no_files_returned,
    ),
    Hostile(
        "hardlink-host-file",
        "import os\nos.link('/etc/passwd', 'p')",
        error_is("PermissionError", "OSError"),
    ),
    Hostile(
        "file-size-limit",
        "with open('big.bin','wb') as f:\n    f.write(b'x' * (20 * 1024 * 1024))",
        limit("file_size", "OSError"),
    ),
    Hostile(
        "fill-scratch-disk",
        "i = 0\nwhile True:\n    open(f'f{{i}}.bin','wb').write(b'x' * (4 * 1024 * 1024)); i += 1",
        error_is("OSError", contains="No space left"),
    ),
    # ------------------------------------------------------------ environment, secrets
    Hostile(
        "environment-is-empty",
        "import os\nprint(sorted(os.environ))",
        prints("['HOME', 'LANG', 'MPLBACKEND', 'PATH', 'TMPDIR', 'USER']"),
    ),
    Hostile(
        "proc-environ-has-no-secret",
        _FIND_SECRET + "out = []\nfor path in ('/proc/self/environ', '/proc/1/environ'):\n"
        "    try:\n        out.append(has_secret(open(path, 'rb').read()))\n"
        "    except PermissionError:\n        out.append('denied')\n"
        "print(out)",
        prints("['denied', 'denied']"),
    ),
    Hostile(
        "memory-scan-for-secret",
        _FIND_SECRET + "import ctypes\nfound = False\nscanned = 0\n"
        "for line in open('/proc/self/maps'):\n"
        "    parts = line.split()\n"
        "    special = parts[-1] in ('[vvar]', '[vsyscall]', '[vvar_vclock]')\n"
        "    if special or not parts[1].startswith('r'):\n"
        "        continue\n"
        "    lo, hi = (int(x, 16) for x in parts[0].split('-'))\n"
        "    for at in range(lo, hi, 1 << 22):\n"
        "        chunk = ctypes.string_at(at, min(1 << 22, hi - at))\n"
        "        scanned += len(chunk); found = found or has_secret(chunk)\n"
        "print(scanned > 50_000_000, found)",
        prints("True False"),
        timeout=60,
    ),
    Hostile(
        "gc-objects-scan-for-secret",
        _FIND_SECRET + "import gc\ngc.unfreeze()\nseen = 0\nhit = False\n"
        "for o in gc.get_objects():\n"
        "    vals = o.values() if isinstance(o, dict) else o\n"
        "    if not isinstance(o, (dict, list, tuple)): continue\n"
        "    for v in vals:\n"
        "        if isinstance(v, (str, bytes)):\n"
        "            seen += 1; hit = hit or has_secret(v)\n"
        "print(seen > 10000, hit)",
        prints("True False"),
        timeout=30,
    ),
    Hostile("import-project-settings", "import core.settings", error_is("ModuleNotFoundError")),
    # ------------------------------------------------------------ network
    Hostile(
        "connect-to-host-listener",
        "import socket\ns = socket.socket(); s.settimeout(2)\ns.connect(('127.0.0.1', {port}))",
        error_is("OSError", contains="Network is unreachable"),
    ),
    Hostile(
        "connect-to-outside",
        "import socket\nsocket.create_connection(('1.1.1.1', 443), timeout=2)",
        error_is("OSError", contains="Network is unreachable"),
    ),
    Hostile(
        "udp-to-host-listener",
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.sendto(b'exfil', ('127.0.0.1', {udp_port}))",
        error_is("OSError", contains="Network is unreachable"),
    ),
    Hostile(
        "dns-lookup", "import socket\nsocket.getaddrinfo('example.com', 443)", error_is("gaierror")
    ),
    Hostile(
        "host-unix-socket",
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('{unix_path}')",
        error_is("FileNotFoundError"),
    ),
    Hostile(
        "host-abstract-unix-socket",
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('\\0{abstract}')",
        error_is("ConnectionRefusedError"),
    ),
    Hostile(
        "network-interfaces",
        "import socket\nprint([name for _, name in socket.if_nameindex()])",
        prints("['lo']"),
    ),
    Hostile(
        "raw-packet-socket",
        "import socket\nsocket.socket(socket.AF_PACKET, socket.SOCK_RAW)",
        error_is("PermissionError"),
    ),
    # ------------------------------------------------------------ processes and shells
    Hostile(
        "shell-sees-only-the-sandbox",
        "import subprocess\n"
        "out = subprocess.run('id -u; cat /etc/passwd | wc -l; ls /home', shell=True,"
        " capture_output=True, text=True).stdout.split()\n"
        "print(int(out[0]) >= {uid_base}, out[1:])",
        prints("True ['1', 'user']"),
    ),
    Hostile(
        "shell-cannot-become-root",
        "import subprocess\n"
        "r = subprocess.run('su -c id root </dev/null; sudo -n id; unshare -r id', shell=True,"
        " capture_output=True, text=True)\nprint('uid=0' in r.stdout)",
        prints("False"),
    ),
    Hostile(
        "fork-bomb",
        "import os\nwhile True:\n    os.fork()",
        limits_include("processes"),
        timeout=5,
    ),
    Hostile(
        "shell-fork-bomb",
        "import subprocess\nsubprocess.run(':(){{ :|:& }};:', shell=True, executable='/bin/bash')\n"
        "import time\ntime.sleep(30)",
        limit("timeout", "TimeoutError"),
        timeout=3,
    ),
    Hostile(
        "thread-bomb",
        "import threading, time\nwhile True:\n"
        "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()",
        error_is("RuntimeError", contains="can't start new thread"),
    ),
    Hostile(
        "kill-everything",
        "import os, signal, subprocess\np = subprocess.Popen(['sleep', '60'])\n"
        "os.kill(-1, signal.SIGKILL)\nprint(p.wait())",
        prints("-9"),
    ),
    Hostile(
        "signal-parent",
        "import os, signal\nprint(os.getppid())\n"
        "os.kill(os.getppid(), signal.SIGKILL)\nprint('alive')",
        prints("0\nalive"),
    ),
    Hostile(
        "kill-by-pid-sweep",
        "import os, signal\nhits = 0\nfor pid in range(2, 40000):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL); hits += 1\n"
        "    except ProcessLookupError:\n        pass\nprint(hits)",
        prints("0"),
    ),
    Hostile("setuid-root", "import os\nos.setuid(0)", error_is("PermissionError")),
    Hostile(
        "leave-background-process",
        "import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "subprocess.Popen(['sh', '-c', '(sleep 600 &) ; sleep 600 &'])\nprint('bye')",
        prints("bye"),
    ),
    # ------------------------------------------------------------ syscalls, introspection
    Hostile(
        "ctypes-new-user-namespace",
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.unshare(0x10000000), os.strerror(ctypes.get_errno()))",
        prints("-1 Operation not permitted"),
    ),
    Hostile(
        "ctypes-mount-tmpfs",
        "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.mount(b'x', b'/tmp', b'tmpfs', 0, None), os.strerror(ctypes.get_errno()))",
        prints("-1 Operation not permitted"),
    ),
    Hostile(
        "ctypes-ptrace-bpf-keyctl-io-uring",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nout = []\n"
        "for nr in (101, 321, 250, 425, 323, 298):\n"
        "    libc.syscall(nr, 0, 0, 0, 0); out.append(ctypes.get_errno())\nprint(out)",
        prints("[1, 1, 1, 1, 1, 1]"),
    ),
    Hostile(
        "ctypes-segfault",
        "import ctypes\nctypes.string_at(0)",
        error_is("SandboxCrash", contains="signal 11"),
    ),
    Hostile(
        "subclasses-to-os-system",
        "w = [c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == '_wrap_close']"
        "[0]\nsystem = w.__init__.__globals__['system']\n"
        "print(system('cat /etc/shadow 2>/dev/null') != 0)",
        prints("True"),
    ),
    Hostile(
        "frame-walk-to-server-state",
        _FIND_SECRET + "import sys\nf = sys._getframe()\ndepth = 0\nhit = False\n"
        "while f is not None:\n"
        "    for v in list(f.f_globals.values()) + list(f.f_locals.values()):\n"
        "        hit = hit or has_secret(repr(v)[:100000])\n"
        "    f = f.f_back; depth += 1\n"
        "print(depth >= 3, hit)",
        prints("True False"),
    ),
    Hostile(
        "forge-results-on-result-pipe",
        'import os\nos.write(3, b\'not json\\n{{"kind": "scalar", "value": "x"}}\\n\')\nshow(42)',
        only_real_result,
    ),
    Hostile(
        "close-result-pipe",
        "import os\nos.close(3)\nprint('closed')",
        error_is("SandboxCrash"),
    ),
    # ------------------------------------------------------------ resources
    Hostile("memory-bomb-one-block", "x = bytearray(8 * 1024**3)", limit("memory", "MemoryError")),
    Hostile(
        "memory-bomb-grow",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024**2))",
        limit("memory", "MemoryError"),
    ),
    Hostile(
        "memory-bomb-numpy",
        "import numpy as np\na = np.ones((1024, 1024, 1024), dtype='uint8')",
        limit("memory", "MemoryError"),
    ),
    Hostile(
        "cpu-loop-python", "while True:\n    pass", limit("cpu", "CPUTimeExceeded"), timeout=30
    ),
    Hostile("cpu-loop-in-c", "sum(range(10**13))", limit("cpu", "CPUTimeExceeded"), timeout=30),
    Hostile(
        "sleep-forever",
        "import time\ntime.sleep(3600)",
        limit("timeout", "TimeoutError"),
        timeout=1.5,
    ),
    Hostile(
        "ignore-signals-and-hang",
        "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\ntime.sleep(3600)",
        limit("timeout", "TimeoutError"),
        timeout=1.5,
    ),
    Hostile(
        "infinite-print",
        "while True:\n    print('x' * 1000)",
        limit("output", "OutputLimitExceeded"),
    ),
    Hostile(
        "infinite-raw-stderr",
        "import os\nwhile True:\n    os.write(2, b'y' * 65536)",
        limit("output", "OutputLimitExceeded"),
    ),
    Hostile(
        "infinite-results",
        "import pandas as pd\ndf = pd.DataFrame({{'a': range(5000), 'b': ['x' * 50] * 5000}})\n"
        "while True:\n    show(df)",
        limit("result", "ResultTooLarge"),
    ),
    Hostile(
        "open-files-exhaustion",
        "fs = []\nwhile True:\n    fs.append(open('/dev/null'))",
        error_is("OSError", contains="Too many open files"),
    ),
    Hostile(
        "infinite-recursion",
        "def f(n):\n    return f(n + 1)\nf(0)",
        error_is("RecursionError"),
    ),
]
