"""Retention: delete what a workspace no longer keeps, from every store that holds it.

Run periodically (an ARQ cron job, ``workers/settings.py``) and on demand
(``nexus admin retention run``). Per workspace and kind, the cutoff is *now minus the
kind's days* (``0`` keeps forever; unset: ``NEXUS_RETENTION_DAYS``):

- uploads — file bytes in the blob store; the dataset is marked deleted (nothing can
  be answered from it without its bytes);
- datasets — dataset rows, and their bytes if still there;
- documents — chunks in the vector index, any blobs, then the rows (:mod:`.purge`);
- threads — messages, and conversations left empty;
- results — finished job records.

A sweep that deletes something leaves one ``retention.deleted`` audit entry per
workspace with the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from core.blobs import BlobStore
from core.governance.encryption import secret_box
from core.governance.policy import RETENTION_KINDS, Retention, RetentionKind, governance_of
from core.governance.purge import DocumentIndex, Purger
from core.logging import get_logger
from core.settings import Settings
from core.storage.db import Database
from core.storage.models import Workspace, utcnow
from core.storage.repositories import audit, expiry

log = get_logger("governance.retention")

ACTOR = "system:retention"

Counts = dict[str, int]


class RetentionSweeper:
    def __init__(
        self,
        *,
        database: Database,
        purger: Purger,
        default_days: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self._purge = purger
        self._default_days = default_days
        self._clock = clock

    async def sweep(self) -> dict[str, Counts]:
        """Sweep every workspace; returns the counts of each workspace that lost data."""
        async with self._db.session() as session:
            rows = (await session.execute(select(Workspace.id, Workspace.settings))).all()
        report: dict[str, Counts] = {}
        for workspace_id, settings in rows:
            policy = governance_of(settings or {}).retention
            counts = await self.sweep_workspace(workspace_id, policy)
            if any(counts.values()):
                report[workspace_id] = counts
        log.info("retention.swept", workspaces=len(rows), deleted_in=len(report))
        return report

    def _cutoffs(self, policy: Retention, now: datetime) -> dict[RetentionKind, datetime]:
        cutoffs: dict[RetentionKind, datetime] = {}
        for kind in RETENTION_KINDS:
            days = policy.days(kind, self._default_days)
            if days > 0:
                cutoffs[kind] = now - timedelta(days=days)
        return cutoffs

    async def sweep_workspace(self, workspace_id: str, policy: Retention) -> Counts:
        now = self._clock()
        cutoffs = self._cutoffs(policy, now)
        counts: Counts = dict.fromkeys(RETENTION_KINDS, 0)
        ws = workspace_id
        if "uploads" in cutoffs:
            async with self._db.session() as session:
                kept = await expiry.datasets_before(
                    session, ws, cutoffs["uploads"], with_bytes_only=True
                )
            counts["uploads"] = await self._purge.dataset_bytes(ws, kept, now)
        if "datasets" in cutoffs:
            async with self._db.session() as session:
                expired = await expiry.datasets_before(session, ws, cutoffs["datasets"])
            counts["datasets"] = await self._purge.datasets(ws, expired)
        if "documents" in cutoffs:
            async with self._db.session() as session:
                docs = await expiry.documents_before(session, ws, cutoffs["documents"])
            counts["documents"] = await self._purge.documents(ws, [d.id for d in docs])
        async with self._db.session() as session:
            if "threads" in cutoffs:
                counts["threads"] = await expiry.delete_history_before(
                    session, ws, cutoffs["threads"]
                )
            if "results" in cutoffs:
                counts["results"] = await expiry.delete_jobs_before(session, ws, cutoffs["results"])
            if any(counts.values()):
                await audit.append(
                    session, ws, action="retention.deleted", actor_id=ACTOR, detail=counts
                )
        return counts


def build_sweeper(settings: Settings, database: Database, *, index: object) -> RetentionSweeper:
    """The sweeper a worker runs: the process's stores, the deployment's default days.

    ``index`` is the worker's document library; it deletes chunks when it implements
    :class:`DocumentIndex`. When it does not (documents off), expired document rows are
    still removed and the log says their chunks were not touched."""
    if not isinstance(index, DocumentIndex):
        log.warning("retention.no_document_index", note="document chunks are not deleted")
        index = None
    blobs = BlobStore.for_data_dir(settings.data_dir, box=secret_box(settings))
    return RetentionSweeper(
        database=database,
        purger=Purger(database=database, blobs=blobs, index=index),
        default_days=settings.retention_days,
    )
