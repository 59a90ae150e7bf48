"""The operator guide points at things that exist: its links, the repository paths it
names and the environment variables it tells operators to set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from deploy_support import ROOT, documented_env_names

DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = ["deploy-compose.md", "deploy-kubernetes.md", "platforms.md", "operations.md"]
ENV_NAME = re.compile(
    r"\b(?:NEXUS|SLACK|DISCORD|TEAMS|OPENAI|ANTHROPIC|GROQ|E2B|REDIS|DATABASE|MILVUS|SENTRY"
    r"|BROWSER|POSTGRES)_[A-Z0-9_]*[A-Z0-9]\b"
)
REPO_PATH = re.compile(r"`((?:manifests|docs|tests|core|bot|workers|adapters)/[\w./-]+)`")


def test_the_guide_covers_what_operators_need() -> None:
    names = {p.name for p in DOCS}
    assert set(PAGES) | {"README.md", "troubleshooting.md"} <= names
    index = (ROOT / "docs" / "README.md").read_text()
    assert all(f"({page})" in index for page in names - {"README.md"})
    text = " ".join(p.read_text().lower() for p in DOCS)
    for topic in ("backups", "upgrading", "alembic", "scaling", "keda", "intents", "scopes"):
        assert topic in text, topic


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_links_and_paths_exist(page: Path) -> None:
    text = page.read_text()
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (page.parent / target).exists(), target
    for path in REPO_PATH.findall(text):
        assert (ROOT / path.rstrip("/")).exists(), path


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_variables_named_in_docs_are_documented(page: Path) -> None:
    known = documented_env_names(ROOT / ".env.example")
    named = set(ENV_NAME.findall(page.read_text()))
    assert named <= known, named - known
