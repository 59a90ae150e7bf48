"""The E2B backend, with the real ``e2b-code-interpreter`` SDK against a fake E2B
(control plane, envd files, streaming /execute) that runs code in the jailed local
sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import pytest
import pytest_asyncio
from fake_e2b import FakeE2B
from sandbox_jail import make_limits

from core.errors import SandboxError
from core.sandbox.e2b import PRELUDE, E2BSandbox
from core.sandbox.local import LocalSandbox
from core.sandbox.protocol import FigureResult, SandboxRun, ScalarResult, TableResult

pytestmark = pytest.mark.asyncio(loop_scope="session")
API_KEY = "e2b_fake_0123456789"


@pytest_asyncio.fixture(loop_scope="session")
async def fake(sandbox: LocalSandbox) -> AsyncIterator[FakeE2B]:
    server = FakeE2B(sandbox, API_KEY)
    await server.start()
    yield server
    await server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def backend(fake: FakeE2B, clock: Clock | None = None, key: str = API_KEY) -> E2BSandbox:
    return E2BSandbox(
        key,
        make_limits(e2b_idle_seconds=60),
        api_url=fake.url,
        sandbox_url=fake.url,
        clock=clock or Clock(),
    )


async def test_prelude_is_self_contained() -> None:
    compile(PRELUDE, "<prelude>", "exec")
    assert "from core" not in PRELUDE
    assert "def nexus_main(" in PRELUDE and "def to_item(" in PRELUDE


async def test_one_off_run_with_dataset(fake: FakeE2B, data_dir: Path) -> None:
    box = backend(fake)
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('tips.csv')\n"
        "print('rows', len(df))\n"
        "df.groupby('day')['tip'].mean()\n"
    )
    res = await box.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"]))
    await box.close()
    assert res.ok, res.error
    assert res.backend == "e2b" and res.stdout == "rows 244\n"
    [table] = res.results
    assert isinstance(table, TableResult) and table.is_main
    expected = pd.read_csv(data_dir / "tips.csv").groupby("day")["tip"].mean()
    assert {r["day"]: r["tip"] for r in table.records} == pytest.approx(expected.to_dict())
    [created] = [b for b in fake.boxes.values() if b.uploads == ["/home/user/tips.csv"]]
    assert created.body["allow_internet_access"] is False
    assert created.body["envVars"] == {}
    assert not created.alive  # a run without a session gets a throwaway sandbox


async def test_session_reuses_its_sandbox_and_uploads(fake: FakeE2B, data_dir: Path) -> None:
    clock = Clock()
    box = backend(fake, clock)
    before = set(fake.boxes)
    runs = [
        SandboxRun(code="import pandas as pd\nlen(pd.read_csv('iris.csv'))",
                   datasets=[data_dir / "iris.csv"], session="ws1:thread9"),
        SandboxRun(code="import pandas as pd\npd.read_csv('iris.csv').species.nunique()",
                   datasets=[data_dir / "iris.csv"], session="ws1:thread9"),
    ]  # fmt: skip
    first = await box.run(runs[0])
    clock.now += 30
    second = await box.run(runs[1])
    assert [first.results[0].value, second.results[0].value] == [150, 3]  # type: ignore[union-attr]
    [new] = [fake.boxes[k] for k in set(fake.boxes) - before]
    assert new.executions == 2 and new.uploads == ["/home/user/iris.csv"] and new.alive
    assert await box.close_idle() == 0  # used 0 s ago
    clock.now += 59
    assert await box.close_idle() == 0
    clock.now += 1
    assert await box.close_idle() == 1 and not new.alive and box.active_sessions == 0
    await box.close()


async def test_user_error_is_returned(fake: FakeE2B) -> None:
    box = backend(fake)
    res = await box.run(SandboxRun(code="print('before')\n{}['k']"))
    await box.close()
    assert res.stdout == "before\n"
    assert res.error is not None and res.error.type == "KeyError"
    assert 'File "<analysis>", line 2' in res.error.traceback


async def test_figure_scalar_and_files(fake: FakeE2B, data_dir: Path) -> None:
    box = backend(fake)
    code = (
        "import pandas as pd, plotly.express as px\n"
        "df = pd.read_csv('tips.csv')\n"
        "show(px.histogram(df, x='total_bill'))\n"
        "df.describe().to_csv('summary.csv')\n"
        "df.tip.max()\n"
    )
    res = await box.run(SandboxRun(code=code, datasets=[data_dir / "tips.csv"]))
    await box.close()
    assert res.ok, res.error
    fig, top = res.results
    assert isinstance(fig, FigureResult) and fig.figure["data"][0]["type"] == "histogram"
    assert isinstance(top, ScalarResult) and top.value == 10.0
    assert res.files["summary.csv"].startswith(b",total_bill,tip,size")


async def test_timeout_kills_the_sandbox_and_the_run(fake: FakeE2B) -> None:
    box = backend(fake)
    before = set(fake.boxes)
    cancelled = fake.cancelled_executions
    res = await box.run(
        SandboxRun(code="import time\ntime.sleep(120)", timeout=1.5, session="ws1:slow")
    )
    assert res.timed_out and res.limits_hit == ["timeout"]
    assert res.error is not None and res.error.type == "TimeoutError"
    [new] = [fake.boxes[k] for k in set(fake.boxes) - before]
    assert not new.alive and box.active_sessions == 0
    # The SDK hung up; the fake's handler (and the local run under it) was cancelled.
    async with asyncio.timeout(20):
        while fake.cancelled_executions == cancelled:  # noqa: ASYNC110 - server-side condition
            await asyncio.sleep(0.02)
    await box.close()


async def test_bad_api_key_is_an_infrastructure_error(fake: FakeE2B) -> None:
    box = backend(fake, key="e2b_wrong")
    with pytest.raises(SandboxError) as info:
        await box.run(SandboxRun(code="1"))
    assert "unavailable" in info.value.user_message
    await box.close()


async def test_report_says_internet_is_off(fake: FakeE2B) -> None:
    report = backend(fake).report()
    assert report.backend == "e2b" and not report.missing
    assert any("internet access disabled" in line for line in report.enforced)
