"""A host missing kernel features: the sandbox runs with what remains and says so
(report, readiness, self-test) instead of falling back to in-process execution."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sandbox_jail import OuterJail, make_limits

from core.sandbox.local import LocalSandbox
from core.sandbox.protocol import SandboxRun
from core.sandbox.selftest import run_self_test

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def own_jail(jail: OuterJail) -> Iterator[OuterJail]:
    own = OuterJail()
    yield own
    own.close()


@pytest_asyncio.fixture(loop_scope="session")
async def degraded(own_jail: OuterJail) -> AsyncIterator[LocalSandbox]:
    box = LocalSandbox(
        make_limits(preload=["pandas", "numpy"]),
        launcher=own_jail.launcher,
        disable=["netns", "mountns", "seccomp"],
    )
    await box.start()
    own_jail.assert_holds(box)
    yield box
    await box.close()


async def test_report_names_what_is_missing(degraded: LocalSandbox) -> None:
    report = degraded.report()
    missing = " | ".join(report.missing)
    assert "network: NOT isolated" in missing
    assert "filesystem: NOT isolated" in missing
    assert "syscalls: no seccomp filter" in missing
    assert "disabled by configuration" in missing
    assert report.readyz()["isolated"] is False
    assert report.summary_line() == ("sandbox local: running WITHOUT network; filesystem; syscalls")
    enforced = " | ".join(report.enforced)
    assert "processes: private PID namespace" in enforced
    assert "user: runs as an unprivileged uid" in enforced


async def test_runs_still_work_out_of_process(degraded: LocalSandbox, data_dir: Path) -> None:
    code = (
        "import os, pandas as pd\n"
        "print(os.getuid() >= 200000, os.getpid() == 1, os.getcwd().startswith('/tmp/'))\n"
        "pd.read_csv('tips.csv').to_csv('copy.csv', index=False)\n"
        "len(pd.read_csv('tips.csv'))\n"
    )
    res = await degraded.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"]))
    assert res.ok, res.error
    assert res.stdout == "True True True\n"
    assert res.results[0].value == 244  # type: ignore[union-attr]
    assert res.files["copy.csv"] == (data_dir / "tips.csv").read_bytes()


async def test_self_test_flags_the_gaps(degraded: LocalSandbox) -> None:
    report = await run_self_test(degraded)
    verdict = {c.name.split(" (")[0]: c.enforced for c in report.checks}
    assert verdict["no connection to a listener on the host's 127.0.0.1"] is False
    assert verdict["project files are not visible"] is False
    assert verdict["cannot create namespaces"] is False
    # What remains is still enforced.
    assert verdict["code runs without root"] is True
    assert verdict["no secrets in the environment"] is True
    assert verdict["memory is capped"] is True
    assert verdict["wall-clock timeout kills the run"] is True
    assert not report.ok
