"""Dialect-aware upserts shared by the repositories (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import DeclarativeBase

from core.errors import StorageError
from core.storage.models import NO_THREAD

T = TypeVar("T")

Executor = AsyncSession | AsyncConnection
"""Where a statement runs: a session, or a bare connection where one statement is the
whole transaction and the ORM session's bookkeeping would be most of its cost."""


def thread_key(thread_id: str | None) -> str:
    """Storage form of a thread id: ``""`` means "not in a thread" (see models)."""
    return NO_THREAD if thread_id is None else thread_id


def present(row: T | None, what: str) -> T:
    """``row``, which the statement just before guaranteed; a missing row is a bug."""
    if row is None:
        raise StorageError(f"{what} vanished right after being written")
    return row


def _insert(executor: Executor, model: type[DeclarativeBase]) -> Any:
    # Both dialects spell ON CONFLICT the same way in SQLAlchemy; pick the right one.
    bind = executor if isinstance(executor, AsyncConnection) else executor.get_bind()
    dialect = bind.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    # The table, not the mapped class: the statement is the same, and SQLAlchemy skips
    # its ORM bulk-insert machinery (a third of an upsert's CPU on the Teams ack path).
    return module.insert(model.__table__)


async def insert_ignore(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    conflict: Sequence[str],
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True if a row was inserted.

    Race-free get-or-create: two processes meeting a new workspace at once both
    succeed, and exactly one of them sees True.
    """
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def upsert(
    executor: Executor,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    conflict: Sequence[str],
    update: Mapping[str, Any],
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE SET ``update``."""
    stmt = (
        _insert(executor, model)
        .values(**values)
        .on_conflict_do_update(index_elements=conflict, set_=dict(update))
    )
    await executor.execute(stmt)
