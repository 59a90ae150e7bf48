"""Pooled PostgreSQL connections the server closed are replaced at checkout.

The engine does not ping before every checkout (``pool_pre_ping``'s round trip cost
the ack path CPU); it relies on asyncpg having seen the server's EOF. Here the server
really closes the pooled connection (``pg_terminate_backend``, as a restart would),
and the next session must work at the first attempt.
"""

from __future__ import annotations

from sqlalchemy import text

from core.storage.db import Database


async def test_a_connection_the_server_closed_is_not_handed_out(pg_database_url: str) -> None:
    database = Database(pg_database_url, pool_size=1, max_overflow=0)
    admin = Database(pg_database_url)
    try:
        async with database.session() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with admin.session() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # Until the backend has exited: its EOF then reaches asyncpg while this waits.
        while await _backend_alive(admin, pid):
            pass
        async with database.session() as session:
            now_pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert now_pid != pid
    finally:
        await database.engine.dispose()
        await admin.engine.dispose()


async def _backend_alive(admin: Database, pid: int) -> bool:
    async with admin.session() as session:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        return bool((await session.execute(query, {"pid": pid})).scalar_one())
