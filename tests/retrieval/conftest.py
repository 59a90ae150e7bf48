"""Fixtures of the retrieval tests: a migrated database and document libraries on a
real milvus-lite file (or any ``MILVUS_URI``) in the test's temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from retrieval_support import WORKSPACES, settings_for

from core.retrieval.library import DocumentLibrary
from core.storage.db import Database
from core.storage.repositories import workspaces

LibraryFactory = Callable[..., Awaitable[DocumentLibrary]]


@pytest.fixture
async def database(sqlite_database_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_database_url)
    await db.migrate()
    async with db.session() as session:
        for workspace in WORKSPACES:
            await workspaces.get_or_create(session, workspace, platform="test")
    yield db
    await db.dispose()


@pytest.fixture
async def make_library(database: Database, tmp_path: Path) -> AsyncIterator[LibraryFactory]:
    opened: list[DocumentLibrary] = []

    async def make(**overrides: Any) -> DocumentLibrary:
        library = await DocumentLibrary.open(settings_for(tmp_path, **overrides), database)
        opened.append(library)
        return library

    yield make
    for library in opened:
        await library.close()


@pytest.fixture
async def library(make_library: LibraryFactory) -> DocumentLibrary:
    """BM25 only, on a milvus-lite file."""
    return await make_library()
