"""Audit log and usage as rows for the admin API: JSON objects or CSV text.

The usage report is per UTC day and kind (refunds excluded) with a total per kind;
cost is the ``cost_usd`` kind, priced by the LLM router when each call was made.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import AuditEntry, UsageEntry
from core.storage.repositories.usage import USAGE_KINDS

AUDIT_COLUMNS = ("id", "at", "actor_id", "action", "target", "detail")
USAGE_COLUMNS = ("day", *USAGE_KINDS)


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
    }


async def audit_rows(
    session: AsyncSession,
    workspace_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
    action: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first."""
    stmt = select(AuditEntry).where(AuditEntry.workspace_id == workspace_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit)
    return [audit_row(entry) for entry in (await session.execute(stmt)).scalars()]


async def usage_by_day(
    session: AsyncSession, workspace_id: str, *, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """One row per UTC day with usage in ``[since, until)``: ``{"day", <kind>: amount}``."""
    stmt = select(UsageEntry.at, UsageEntry.kind, UsageEntry.amount).where(
        UsageEntry.workspace_id == workspace_id,
        UsageEntry.refunded.is_(False),
        UsageEntry.at >= since,
        UsageEntry.at < until,
    )
    days: dict[date, dict[str, float]] = defaultdict(lambda: dict.fromkeys(USAGE_KINDS, 0.0))
    for at, kind, amount in await session.execute(stmt):
        if kind in USAGE_KINDS:
            days[at.date()][kind] += float(amount)
    return [{"day": day.isoformat(), **days[day]} for day in sorted(days)]


def totals(rows: Iterable[dict[str, Any]]) -> dict[str, float]:
    summed = dict.fromkeys(USAGE_KINDS, 0.0)
    for row in rows:
        for kind in USAGE_KINDS:
            summed[kind] += float(row.get(kind, 0.0))
    return summed


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header; nested values (audit ``detail``) as compact JSON."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
                for k, v in row.items()
            }
        )
    return out.getvalue()
