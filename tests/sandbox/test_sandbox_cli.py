"""``nexus sandbox run`` and ``nexus sandbox check``, as an operator runs them.

Each CLI process runs inside the outer jail (it starts its own fork server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sandbox_jail import CANARY_VARS, OuterJail

from bot import sandbox_cli
from core.sandbox.forkclient import PROJECT_ROOT
from core.sandbox.selftest import SelfTestReport

ENV = {
    "NEXUS_SANDBOX": "local",
    "NEXUS_SANDBOX_PRELOAD": '["pandas", "numpy", "plotly.express"]',
    "NEXUS_SANDBOX_MEMORY_MB": "512",
}


def nexus_sandbox(jail: OuterJail, *args: str) -> subprocess.CompletedProcess[str]:
    # The CLI process holds secrets in its environment, as an operator's shell would.
    secrets = dict.fromkeys(CANARY_VARS, "nexus-canary-cli")
    return subprocess.run(
        [*jail.launcher, sys.executable, "-m", "bot.sandbox_cli", *args],
        cwd=PROJECT_ROOT, env={**os.environ, **ENV, **secrets}, capture_output=True,
        text=True, timeout=240,
    )  # fmt: skip


def test_run_json(jail: OuterJail, data_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text(
        "import pandas as pd\n"
        "df = pd.read_csv('tips.csv')\n"
        "print('smokers', (df.smoker == 'Yes').sum())\n"
        "df.groupby('time')['total_bill'].sum()\n"
    )
    proc = nexus_sandbox(jail, "run", str(script), "--data", str(data_dir / "tips.csv"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    tips = pd.read_csv(data_dir / "tips.csv")
    assert out["stdout"] == f"smokers {(tips.smoker == 'Yes').sum()}\n"
    assert out["error"] is None and out["backend"] == "local"
    [table] = out["results"]
    expected = tips.groupby("time")["total_bill"].sum()
    assert {r["time"]: r["total_bill"] for r in table["records"]} == pytest.approx(
        expected.to_dict()
    )


def test_run_failing_script(jail: OuterJail, tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("total = 10\nshare = total / 0\n")
    proc = nexus_sandbox(jail, "run", str(script))
    assert proc.returncode == 1
    assert "ZeroDivisionError: division by zero" in proc.stderr
    assert 'File "<analysis>", line 2' in proc.stderr


def test_run_refused_and_missing(jail: OuterJail, tmp_path: Path) -> None:
    script = tmp_path / "net.py"
    script.write_text("import socket\nsocket.create_connection(('example.com', 80))\n")
    refused = nexus_sandbox(jail, "run", str(script))
    assert refused.returncode == 2 and "open network connections" in refused.stderr
    missing = nexus_sandbox(jail, "run", str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "not a file" in missing.stderr


def test_check_reports_everything_enforced(jail: OuterJail) -> None:
    proc = nexus_sandbox(jail, "check", "--json")
    report = json.loads(proc.stdout)
    failed = [c for c in report["checks"] if not c["enforced"]]
    assert failed == [] and report["isolation"]["missing"] == [], proc.stdout
    assert proc.returncode == 0
    areas = {c["area"] for c in report["checks"]}
    assert areas == {"network", "filesystem", "environment", "user", "syscalls", "limits"}
    # The human rendering of the same report (checked in-process: one self-test is enough).
    with sandbox_cli.out.capture() as captured:
        sandbox_cli._print_report(SelfTestReport.model_validate(report))
    human = captured.get()
    assert "MISSING" not in human and "network: private network namespace" in human
    assert human.count("enforced") >= len(report["checks"])
