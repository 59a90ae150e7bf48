"""The security suite: hostile programs, each with its exact expected outcome.

Every program runs with the AST pre-check off, so what contains it is the sandbox
itself. The sandbox runs inside an outer PID namespace and cgroup (see
``sandbox_jail.py``); after every program we check that nothing it started is still
alive and that the fork server is the same, healthy process.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_programs import PROGRAMS, Hostile
from sandbox_jail import OuterJail

from core.sandbox.forkclient import PROJECT_ROOT
from core.sandbox.local import LocalSandbox
from core.sandbox.protocol import SandboxRun

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _children(path: str, binds: list[str]) -> list[str]:
    prefix = path.rstrip("/") + "/"
    return sorted({b[len(prefix) :].split("/")[0] for b in binds if b.startswith(prefix)})


@pytest.fixture(scope="module")
def listeners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Things on the host a sandbox must not reach, each able to tell if it was."""
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    tcp.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.setblocking(False)
    unix_path = str(tmp_path_factory.mktemp("sock") / "host.sock")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(unix_path)
    unix.listen(8)
    unix.setblocking(False)
    abstract = f"nexus-test-{os.getpid()}"
    abstract_sock = socket.socket(socket.AF_UNIX)
    abstract_sock.bind("\0" + abstract)
    abstract_sock.listen(8)
    abstract_sock.setblocking(False)
    yield {
        "tcp": tcp, "udp": udp, "unix": unix, "abstract_sock": abstract_sock,
        "port": tcp.getsockname()[1], "udp_port": udp.getsockname()[1],
        "unix_path": unix_path, "abstract": abstract,
    }  # fmt: skip
    for sock in (tcp, udp, unix, abstract_sock):
        sock.close()


@pytest.fixture(scope="module")
def ctx(
    sandbox: LocalSandbox,
    listeners: dict[str, Any],
    canary: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    assert sandbox._server is not None
    binds: list[str] = sandbox._server.hello["binds"]
    secret_file = tmp_path_factory.mktemp("nexus-data") / "workspace-secret.txt"
    secret_file.write_text(canary)
    top = {b.strip("/").split("/")[0] for b in binds}
    top |= {"dev", "etc", "home", "proc", "tmp"}
    top |= {n for n in ("bin", "lib", "lib64", "sbin") if os.path.lexists("/" + n)}
    return {
        **listeners,
        "canary_sha": hashlib.sha256(canary.encode()).hexdigest(),
        "project": str(PROJECT_ROOT),
        "host_secret_file": str(secret_file),
        "uid_base": sandbox.limits.uid_base,
        "root_listing": str(sorted(top)),
        "project_listing": str(_children(str(PROJECT_ROOT), binds)),
        "root_home_listing": str(_children("/root", binds)),
    }


def _assert_unreached(listeners: dict[str, Any]) -> None:
    for name in ("tcp", "unix", "abstract_sock"):
        with pytest.raises(BlockingIOError):
            conn, _ = listeners[name].accept()
            conn.close()
            raise AssertionError(f"the sandbox reached the host's {name} listener")
    with pytest.raises(BlockingIOError):
        listeners["udp"].recvfrom(100)
        raise AssertionError("the sandbox reached the host's UDP socket")


async def test_there_are_at_least_forty_programs() -> None:
    assert len(PROGRAMS) >= 40
    assert len({p.id for p in PROGRAMS}) == len(PROGRAMS)


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.id for p in PROGRAMS])
async def test_hostile_program(
    program: Hostile,
    sandbox: LocalSandbox,
    jail: OuterJail,
    ctx: dict[str, Any],
    listeners: dict[str, Any],
) -> None:
    jail.assert_holds(sandbox)
    server = sandbox._server
    code = program.code.format(**ctx)
    res = await sandbox.run(SandboxRun(code=code, timeout=program.timeout, check_code=False))
    program.check(res, ctx)
    # Nothing survives the run, nothing reached the host, the server is unharmed.
    await sandbox.drain()
    assert jail.strays(sandbox.limits.uid_base) == set()
    _assert_unreached(listeners)
    assert sandbox._server is server and server is not None and server.alive
    after = await sandbox.run(SandboxRun(code="21 * 2"))
    assert after.ok and after.results[0].value == 42  # type: ignore[union-attr]


async def test_secret_file_written_by_the_test_is_outside(ctx: dict[str, Any]) -> None:
    # The data-dir canary really exists on the host (so its absence inside means something).
    secret = await asyncio.to_thread(Path(ctx["host_secret_file"]).read_text)
    assert secret.startswith("nexus-canary-")
    assert (PROJECT_ROOT / "pyproject.toml").exists()
