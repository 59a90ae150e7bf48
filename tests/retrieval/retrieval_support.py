"""Shared by the retrieval tests: the workspaces they use and settings for a library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings

WORKSPACES = ("test:W1", "test:W2", "test:W3")


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings whose Milvus is a milvus-lite file in ``tmp_path`` (BM25 unless told)."""
    overrides.setdefault("embedder", "none")
    overrides.setdefault("milvus_uri", str(tmp_path / "milvus.db"))
    return Settings(_env_file=None, data_dir=tmp_path, **overrides)  # type: ignore[call-arg]
