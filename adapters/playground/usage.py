"""The page's usage view: the numbers of ``nexus admin usage``, plus what is left.

Usage comes from :func:`core.admin.usage_report` (the usage ledger, refunds
excluded), limits from the workspace's quota policy (``nexus admin quotas set``
overrides over the defaults), and members with their roles from the same table
``nexus admin roles list`` reads. "Left" is limit minus ledger usage; the live
counters in Redis also hold questions still running, so they can be a little ahead.
"""

from __future__ import annotations

from typing import Any

from core import admin
from core.membership import quota_policy
from core.quotas import QuotaPolicy
from core.storage.db import Database
from core.storage.repositories import members, workspaces

# quota field → (period of the usage report, ledger kinds summed against it)
_LEDGER: dict[str, tuple[str, tuple[str, ...]]] = {
    "analyses_per_day": ("today", ("analysis",)),
    "tokens_per_day": ("today", ("tokens_in", "tokens_out")),
    "tokens_per_month": ("month", ("tokens_in", "tokens_out")),
    "cost_usd_per_day": ("today", ("cost_usd",)),
    "cost_usd_per_month": ("month", ("cost_usd",)),
    "upload_bytes_per_day": ("today", ("upload_bytes",)),
    "sandbox_seconds_per_day": ("today", ("sandbox_seconds",)),
}


def quota_rows(policy: QuotaPolicy, report: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """One row per limit: used, limit (None: unlimited) and left."""
    rows: list[dict[str, Any]] = []
    for name, limit in policy.model_dump().items():
        period, kinds = _LEDGER.get(name, ("", ()))
        used = sum(report[period][kind] for kind in kinds) if period else None
        left = None if limit is None or used is None else max(0.0, limit - used)
        rows.append({"name": name, "used": used, "limit": limit, "left": left})
    return rows


async def usage_view(database: Database, workspace_id: str) -> dict[str, Any]:
    """Everything the usage panel shows; ``exists`` is false before the first message."""
    async with database.session() as session:
        workspace = await workspaces.get(session, workspace_id)
        if workspace is None:
            return {"workspace": workspace_id, "exists": False}
        report = await admin.usage_report(session, workspace_id)
        people = await members.list_all(session, workspace_id)
    return {
        "workspace": workspace_id,
        "exists": True,
        "usage": report,
        "quotas": quota_rows(quota_policy(QuotaPolicy(), workspace), report),
        "members": [{"user": m.user_id, "role": m.role} for m in people],
    }
