"""Relational storage: models, the database handle, migrations and repositories."""

from __future__ import annotations

from core.storage.db import Database, create_engine, normalize_url

__all__ = ["Database", "create_engine", "normalize_url"]
