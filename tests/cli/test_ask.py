"""`nexus ask` end to end, as a user runs it: a real subprocess, real files, real Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.express as px
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REPO = Path(__file__).resolve().parents[2]


def run_ask(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "ask", *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
        check=False,
    )


def ask_json(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    completed = run_ask(*args, "--json", env=env)
    assert completed.returncode == 0, completed.stderr
    document: dict[str, Any] = json.loads(completed.stdout)
    return document


@pytest.fixture
def tips_csv(tmp_path: Path) -> Path:
    path = tmp_path / "tips.csv"
    px.data.tips().to_csv(path, index=False)
    return path


@pytest.mark.browser
def test_average_tip_by_day_json_table_and_chart(tips_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    document = ask_json(str(tips_csv), "average tip by day", "--out", str(out))

    expected = px.data.tips().groupby("day")["tip"].mean()
    result = document["result"]
    assert result["kind"] == "table"
    assert result["value"] is None
    assert len(result["columns"]) == 2 and result["columns"][0] == "day"
    got = {row[0]: row[1] for row in result["rows"]}
    assert set(got) == set(expected.index)
    for day, mean_tip in expected.items():
        assert got[day] == pytest.approx(mean_tip)

    assert len(document["charts"]) == 1
    chart = Path(document["charts"][0])
    assert chart.parent == out.resolve()
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    assert "Sun" in document["text"]
    receipt = document["receipt"]
    assert receipt["datasets"][0]["rows"] == len(px.data.tips())
    assert receipt["rows_used"] == len(px.data.tips())
    assert len(receipt["datasets"][0]["content_hash"]) == 64
    assert receipt["spec"]["group_by"] == ["day"]


def test_scalar_answer_filtered_for_dinner(tips_csv: Path, tmp_path: Path) -> None:
    document = ask_json(str(tips_csv), "average tip for dinner", "--out", str(tmp_path))
    tips = px.data.tips()
    dinner = tips[tips["time"] == "Dinner"]
    assert document["result"]["kind"] == "scalar"
    assert document["result"]["value"] == pytest.approx(dinner["tip"].mean())
    assert document["receipt"]["rows_used"] == len(dinner)
    assert document["charts"] == []


@pytest.mark.browser
def test_demo_question_on_bundled_sample(tmp_path: Path) -> None:
    sample = REPO / "core" / "samples" / "gapminder.csv"
    completed = run_ask(
        str(sample), "total population by continent in 2007", "--out", str(tmp_path)
    )
    assert completed.returncode == 0, completed.stderr
    gap = pd.read_csv(sample)
    totals = gap[gap["year"] == 2007].groupby("continent")["pop"].sum()
    asia = f"{int(totals['Asia']):,}"
    assert asia in completed.stdout
    charts = list(tmp_path.glob("*.png"))
    assert len(charts) == 1 and charts[0].read_bytes().startswith(PNG_SIGNATURE)


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    completed = run_ask(str(tmp_path / "nope.csv"), "average tip by day")
    assert completed.returncode == 2
    assert "nope.csv" in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_png_renamed_csv_is_bad_input(tmp_path: Path) -> None:
    fake = tmp_path / "numbers.csv"
    fake.write_bytes(PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + bytes(64))
    completed = run_ask(str(fake), "average tip by day")
    assert completed.returncode == 2
    assert "PNG" in completed.stderr


def test_question_not_understood_is_bad_input_not_a_wrong_answer(tips_csv: Path) -> None:
    completed = run_ask(str(tips_csv), "average salary by department", "--json")
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "salary" in completed.stderr.lower()


def test_question_without_file_is_bad_input() -> None:
    completed = run_ask("average tip by day")
    assert completed.returncode == 2
    assert "FILE" in completed.stderr


def test_no_browser_still_answers_with_text_table_and_a_hint(
    tips_csv: Path, tmp_path: Path
) -> None:
    completed = run_ask(
        str(tips_csv),
        "average tip by day",
        "--out",
        str(tmp_path),
        env={"BROWSER_PATH": str(tmp_path / "no-chromium")},
    )
    assert completed.returncode == 0, completed.stderr
    assert list(tmp_path.glob("*.png")) == []
    expected = px.data.tips().groupby("day")["tip"].mean()
    assert f"{expected['Sun']:.2f}" in completed.stdout
    hint_lines = [
        line for line in completed.stdout.splitlines() if "apt-get install chromium" in line
    ]
    assert len(hint_lines) == 1

    document = ask_json(
        str(tips_csv),
        "average tip by day",
        "--out",
        str(tmp_path),
        env={"BROWSER_PATH": str(tmp_path / "no-chromium")},
    )
    assert document["charts"] == []
    assert "chromium" in document["receipt"]["chart_notice"]
    assert len(document["result"]["rows"]) == len(expected)
