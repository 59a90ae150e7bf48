"""Admin API: usage and cost reports, the audit log, datasets and documents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.admin_api import schemas as s
from bot.admin_api.framework import Call, Endpoint, NotFound
from core.access import Permission, least_role_for
from core.errors import InputError
from core.governance import exports
from core.storage.models import Dataset, Document, utcnow
from core.storage.repositories import audit, datasets

WS = "/workspaces/{workspace_id}"
_MAX_REPORT_DAYS = 400


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...], name: str) -> web.Response:
    return web.Response(
        text=exports.to_csv(rows, columns),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = until or utcnow()
    try:
        since = since or until - timedelta(days=30)
    except OverflowError:  # until in year 1
        raise InputError("until is too early.") from None
    if since.tzinfo is None or until.tzinfo is None:
        raise InputError("Give since and until with a timezone, e.g. 2026-01-01T00:00:00Z.")
    if not since < until or until - since > timedelta(days=_MAX_REPORT_DAYS):
        raise InputError(f"since must be before until, at most {_MAX_REPORT_DAYS} days apart.")
    return since, until


async def usage_report(call: Call) -> s.UsageReport | web.Response:
    query = call.query(s.UsageQuery)
    since, until = _window(query.since, query.until)
    rows = await exports.usage_by_day(call.session, call.workspace_id, since=since, until=until)
    if query.format == "csv":
        return _csv(rows, exports.USAGE_COLUMNS, "usage")
    days = [s.UsageDay.model_validate(row) for row in rows]
    return s.UsageReport(since=since, until=until, days=days, totals=exports.totals(rows))


async def audit_log(call: Call) -> s.AuditLog | web.Response:
    query = call.query(s.AuditQuery)
    for moment in (query.since, query.until):
        if moment is not None and moment.tzinfo is None:
            raise InputError("Give since and until with a timezone, e.g. 2026-01-01T00:00:00Z.")
    rows = await exports.audit_rows(
        call.session,
        call.workspace_id,
        since=query.since,
        until=query.until,
        action=query.action,
        limit=query.limit,
    )
    if query.format == "csv":
        return _csv(rows, exports.AUDIT_COLUMNS, "audit")
    return s.AuditLog(items=[s.AuditEntryOut.model_validate(row) for row in rows])


async def list_datasets(call: Call) -> s.DatasetList:
    stmt = (
        select(Dataset)
        .where(Dataset.workspace_id == call.workspace_id, Dataset.deleted_at.is_(None))
        .order_by(Dataset.created_at.desc(), Dataset.id)
    )
    rows = (await call.session.execute(stmt)).scalars()
    return s.DatasetList(items=[s.DatasetOut.model_validate(r, from_attributes=True) for r in rows])


async def delete_dataset(call: Call) -> web.Response:
    row = await datasets.get(call.session, call.workspace_id, call.path("dataset_id"))
    if row is None:
        raise NotFound("No such dataset in this workspace.")
    await call.deps.purger.datasets(call.workspace_id, [row])
    await audit.append(
        call.session,
        call.workspace_id,
        action="dataset.deleted",
        actor_id=call.actor,
        target=row.id,
    )
    return web.Response(status=204)


async def list_documents(call: Call) -> s.DocumentList:
    stmt = (
        select(Document)
        .where(Document.workspace_id == call.workspace_id)
        .order_by(Document.created_at.desc(), Document.id)
    )
    rows = (await call.session.execute(stmt)).scalars()
    items = [s.DocumentOut.model_validate(r, from_attributes=True) for r in rows]
    return s.DocumentList(items=items)


async def delete_document(call: Call) -> web.Response:
    document_id = call.path("document_id")
    stmt = select(Document.id).where(
        Document.workspace_id == call.workspace_id, Document.id == document_id
    )
    if (await call.session.execute(stmt)).scalar() is None:
        raise NotFound("No such document in this workspace.")
    await call.deps.purger.documents(call.workspace_id, [document_id])
    await audit.append(
        call.session,
        call.workspace_id,
        action="document.deleted",
        actor_id=call.actor,
        target=document_id,
    )
    return web.Response(status=204)


_VIEW = least_role_for(Permission.VIEW_USAGE)
_AUDIT = least_role_for(Permission.VIEW_AUDIT)
# Seeing and deleting a workspace's files is for whoever may read its audit log.
_DATA = _AUDIT

ENDPOINTS = [
    Endpoint("GET", f"{WS}/usage", usage_report, "Usage and cost per day", _VIEW, "reports",
             query=s.UsageQuery, response=s.UsageReport, csv=True),
    Endpoint("GET", f"{WS}/audit", audit_log, "Audit log export", _AUDIT, "reports",
             query=s.AuditQuery, response=s.AuditLog, csv=True),
    Endpoint("GET", f"{WS}/datasets", list_datasets, "Datasets", _DATA, "data",
             response=s.DatasetList),
    Endpoint("DELETE", f"{WS}/datasets/{{dataset_id}}", delete_dataset,
             "Delete a dataset and its file", _DATA, "data"),
    Endpoint("GET", f"{WS}/documents", list_documents, "Documents", _DATA, "data",
             response=s.DocumentList),
    Endpoint("DELETE", f"{WS}/documents/{{document_id}}", delete_document,
             "Delete a document and its indexed chunks", _DATA, "data"),
]  # fmt: skip
