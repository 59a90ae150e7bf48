"""Platform installations (OAuth results) and stored conversation references.

Installation ``data`` holds platform tokens. Given a ``box`` (``NEXUS_ENCRYPTION_KEYS``,
:func:`core.governance.encryption.secret_box`), :func:`save` stores it encrypted as
``{"encrypted": "NXENC1:..."}`` and :func:`get` returns the row detached from the
session with ``data`` decrypted (so the plaintext can never be flushed back). Without a
box, ``data`` is stored and returned as given. Adapters must read and write only
through these functions.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.governance.encryption import SecretBox
from core.logging import get_logger
from core.storage.models import ConversationReference, Installation, utcnow
from core.storage.repositories._sql import Executor, upsert

_log = get_logger("storage.installations")


async def save(
    session: AsyncSession,
    workspace_id: str,
    *,
    platform: str,
    data: dict[str, Any],
    installed_by: str | None = None,
    box: SecretBox | None = None,
) -> None:
    """Store (or replace, on reinstall) the installation of ``workspace_id``."""
    now = utcnow()
    if box is not None:
        data = seal(data, box)
    else:
        _log.warning("installation.stored_unencrypted", workspace=workspace_id)
    values = {"platform": platform, "data": data, "installed_by": installed_by, "updated_at": now}
    await upsert(
        session,
        Installation,
        {"workspace_id": workspace_id, "installed_at": now, **values},
        ["workspace_id"],
        values,
    )


async def get(
    session: AsyncSession, workspace_id: str, *, box: SecretBox | None = None
) -> Installation | None:
    """The installation; with ``box``, detached and decrypted (see the module docstring)."""
    stmt = select(Installation).where(Installation.workspace_id == workspace_id)
    row = (await session.execute(stmt.execution_options(populate_existing=True))).scalar()
    if row is not None and box is not None and is_sealed(row.data):
        session.expunge(row)
        row.data = unseal(row.data, box)
    return row


async def reseal_all(session: AsyncSession, box: SecretBox) -> int:
    """Encrypt every installation under ``box``'s first key (rotation, or turning
    encryption on); returns how many rows were rewritten."""
    rows = list((await session.execute(select(Installation))).scalars())
    for row in rows:
        plain = unseal(row.data, box) if is_sealed(row.data) else row.data
        row.data = seal(plain, box)
    await session.flush()
    return len(rows)


_SEALED = "encrypted"


def is_sealed(data: dict[str, Any]) -> bool:
    return set(data) == {_SEALED} and isinstance(data[_SEALED], str)


def seal(data: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    return {_SEALED: box.encrypt(json.dumps(data).encode()).decode("ascii")}


def unseal(data: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(box.decrypt(data[_SEALED].encode("ascii")))
    return plain


async def remove(session: AsyncSession, workspace_id: str) -> bool:
    """Forget the installation (app uninstalled, tokens revoked)."""
    stmt = delete(Installation).where(Installation.workspace_id == workspace_id)
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


async def save_reference(
    executor: Executor, workspace_id: str, key: str, *, platform: str, data: dict[str, Any]
) -> None:
    values = {"platform": platform, "data": data, "updated_at": utcnow()}
    await upsert(
        executor,
        ConversationReference,
        {"workspace_id": workspace_id, "key": key, **values},
        ["workspace_id", "key"],
        values,
    )


async def get_reference(
    session: AsyncSession, workspace_id: str, key: str
) -> ConversationReference | None:
    stmt = select(ConversationReference).where(
        ConversationReference.workspace_id == workspace_id, ConversationReference.key == key
    )
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar()
