"""A killed or hung child never hangs or kills the worker; a dead or frozen fork
server is noticed, reported, and replaced on the next run."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sandbox_jail import OuterJail, make_limits

from core.errors import SandboxError
from core.sandbox.local import LocalSandbox
from core.sandbox.protocol import SandboxRun

pytestmark = pytest.mark.asyncio(loop_scope="session")

LIGHT = {"preload": ["pandas", "numpy"]}


@pytest.fixture
def own_jail(jail: OuterJail) -> Iterator[OuterJail]:
    own = OuterJail()
    yield own
    own.close()


@pytest_asyncio.fixture(loop_scope="session")
async def own_sandbox(own_jail: OuterJail) -> AsyncIterator[LocalSandbox]:
    """A sandbox in a jail of its own: these tests kill fork servers."""
    box = LocalSandbox(make_limits(**LIGHT), launcher=own_jail.launcher, backstop_grace=1.0)
    await box.start()
    own_jail.assert_holds(box)
    yield box
    await box.close()


def _server_host_pid(box: LocalSandbox) -> int:
    """The fork server's pid as the host sees it (inside the jail it is PID 1)."""
    assert box._server is not None
    launcher = box._server.proc.pid
    with open(f"/proc/{launcher}/task/{launcher}/children") as fh:
        children = fh.read().split()
    assert len(children) == 1
    return int(children[0])


async def _until_run_started(box: LocalSandbox, jail: OuterJail) -> None:
    """Wait until the run's process runs as its sandbox uid (a condition, not a nap)."""
    async with asyncio.timeout(30):
        while not jail.running_code(box.limits.uid_base):  # noqa: ASYNC110 - lives in /proc
            await asyncio.sleep(0.01)


async def test_segfaulting_child_is_reported(sandbox: LocalSandbox) -> None:
    res = await sandbox.run(SandboxRun(code="import ctypes\nctypes.string_at(0)", check_code=False))
    assert res.error is not None and res.error.type == "SandboxCrash"
    assert "signal 11" in res.error.message
    assert (await sandbox.run(SandboxRun(code="1 + 1"))).ok


async def test_child_closing_its_pipes_and_hanging_is_timed_out(sandbox: LocalSandbox) -> None:
    code = "import os, time\nos.close(1); os.close(2); os.close(3)\ntime.sleep(600)"
    res = await sandbox.run(SandboxRun(code=code, timeout=1.0, check_code=False))
    assert res.timed_out and res.error is not None and res.error.type == "TimeoutError"
    assert res.duration < 5


async def test_child_exiting_without_result(sandbox: LocalSandbox) -> None:
    res = await sandbox.run(SandboxRun(code="import os\nprint('bye', flush=True)\nos._exit(3)",
                                       check_code=False))  # fmt: skip
    assert res.stdout == "bye\n"
    assert res.error is not None and res.error.type == "SandboxCrash"
    assert "exit code 3" in res.error.message


async def test_cancelled_run_is_killed(sandbox: LocalSandbox, jail: OuterJail) -> None:
    task = asyncio.create_task(sandbox.run(SandboxRun(code="import time\ntime.sleep(600)")))
    await _until_run_started(sandbox, jail)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await sandbox.drain()
    assert jail.strays() == set()
    assert (await sandbox.run(SandboxRun(code="2 + 2"))).ok


async def test_fork_server_killed_mid_run(own_sandbox: LocalSandbox, own_jail: OuterJail) -> None:
    jail = own_jail
    assert jail.group is not None
    task = asyncio.create_task(own_sandbox.run(SandboxRun(code="import time\ntime.sleep(600)")))
    await _until_run_started(own_sandbox, jail)
    os.kill(_server_host_pid(own_sandbox), signal.SIGKILL)
    with pytest.raises(SandboxError) as info:
        await task
    assert "stopped unexpectedly" in info.value.user_message
    await own_sandbox.drain()
    # The next run starts a fresh server; the old run's processes died with the old one.
    res = await own_sandbox.run(SandboxRun(code="6 * 7"))
    assert res.ok and res.results[0].value == 42  # type: ignore[union-attr]
    jail.assert_holds(own_sandbox)
    await own_sandbox.drain()
    assert jail.strays() == set()


async def test_frozen_fork_server_is_replaced(
    own_sandbox: LocalSandbox, own_jail: OuterJail
) -> None:
    jail = own_jail
    assert jail.group is not None
    os.kill(_server_host_pid(own_sandbox), signal.SIGSTOP)
    with pytest.raises(SandboxError) as info:
        await own_sandbox.run(SandboxRun(code="1", timeout=0.5))
    assert "stopped responding" in info.value.user_message
    await own_sandbox.drain()
    res = await own_sandbox.run(SandboxRun(code="'back'"))
    assert res.ok and res.results[0].value == "back"  # type: ignore[union-attr]
    await own_sandbox.drain()
    assert jail.strays() == set()


async def test_many_hostile_runs_at_once_do_not_starve_the_worker(sandbox: LocalSandbox) -> None:
    bombs = [
        SandboxRun(code="import os\nwhile True:\n    os.fork()", check_code=False, timeout=5),
        SandboxRun(code="x = []\nwhile True:\n    x.append(bytearray(1 << 24))", check_code=False),
        SandboxRun(code="while True:\n    print('z' * 4096)", check_code=False),
        SandboxRun(code="while True:\n    pass", check_code=False, timeout=20),
    ]
    benign = [SandboxRun(code=f"{i} * 2") for i in range(8)]
    results = await asyncio.gather(*(sandbox.run(r) for r in bombs + benign))
    assert all(not r.ok for r in results[: len(bombs)])
    assert [r.results[0].value for r in results[len(bombs) :]] == [i * 2 for i in range(8)]  # type: ignore[union-attr]


async def test_dead_idle_slots_are_skipped(own_sandbox: LocalSandbox, own_jail: OuterJail) -> None:
    """Prepared children killed while idle (OOM killer, an operator) cost nothing."""
    server = _server_host_pid(own_sandbox)
    async with asyncio.timeout(30):  # the server fills its pool while nothing else happens
        while not (idle := [p for p in own_jail.pids() if _parent(p) == server]):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    for pid in idle:
        os.kill(pid, signal.SIGKILL)
    async with asyncio.timeout(30):  # gone from /proc = reaped by the server
        while any(_parent(pid) != -1 for pid in idle):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    results = await asyncio.gather(
        *(own_sandbox.run(SandboxRun(code=f"{i} + 1")) for i in range(3))
    )
    assert [r.results[0].value for r in results] == [1, 2, 3]  # type: ignore[union-attr]
    await own_sandbox.drain()
    assert own_jail.strays() == set()


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("PPid:"))
    except (OSError, StopIteration):
        return -1
