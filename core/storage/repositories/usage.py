"""The usage ledger: the durable record behind Redis's quota counters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import UsageEntry, utcnow

UsageKind = Literal[
    "analysis", "tokens_in", "tokens_out", "cost_usd", "upload_bytes", "sandbox_seconds"
]
USAGE_KINDS: tuple[str, ...] = get_args(UsageKind)


async def record(
    session: AsyncSession,
    workspace_id: str,
    *,
    kind: UsageKind,
    amount: float,
    user_id: str | None = None,
    job_id: str | None = None,
    at: datetime | None = None,
) -> UsageEntry:
    if kind not in USAGE_KINDS:
        raise ValueError(f"unknown usage kind {kind!r}")
    entry = UsageEntry(
        workspace_id=workspace_id,
        user_id=user_id,
        kind=kind,
        amount=float(amount),
        job_id=job_id,
        refunded=False,
        at=at or utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def refund(
    session: AsyncSession,
    workspace_id: str,
    *,
    job_id: str,
    kinds: Iterable[UsageKind] | None = None,
) -> int:
    """Mark a job's entries refunded (it failed through no fault of the user).

    Returns how many entries changed; refunding twice changes nothing the second time.
    """
    stmt = update(UsageEntry).where(
        UsageEntry.workspace_id == workspace_id,
        UsageEntry.job_id == job_id,
        UsageEntry.refunded.is_(False),
    )
    if kinds is not None:
        stmt = stmt.where(UsageEntry.kind.in_(list(kinds)))
    result = await session.execute(stmt.values(refunded=True))
    return int(getattr(result, "rowcount", 0))


async def totals(
    session: AsyncSession,
    workspace_id: str,
    *,
    since: datetime,
    until: datetime | None = None,
    user_id: str | None = None,
) -> dict[str, float]:
    """Sum of unrefunded usage per kind in ``[since, until)``; every kind is present."""
    stmt = (
        select(UsageEntry.kind, func.sum(UsageEntry.amount))
        .where(
            UsageEntry.workspace_id == workspace_id,
            UsageEntry.refunded.is_(False),
            UsageEntry.at >= since,
        )
        .group_by(UsageEntry.kind)
    )
    if until is not None:
        stmt = stmt.where(UsageEntry.at < until)
    if user_id is not None:
        stmt = stmt.where(UsageEntry.user_id == user_id)
    sums = {kind: float(total or 0) for kind, total in await session.execute(stmt)}
    return {kind: sums.get(kind, 0.0) for kind in USAGE_KINDS}
