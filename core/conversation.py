"""The conversation manager: every adapter's front door (:class:`core.ports.Intake`).

One inbound event goes through, in order::

    addressed? → dedupe → workspace + member → command? → RBAC → quota → record → enqueue

- **dedupe** claims the event's keys in Redis (event id *and* channel + message id);
  a redelivery stops here as ``duplicate``.
- **workspace + member** are provisioned on first contact (:mod:`core.membership`)
  and then cached (:mod:`core.member_cache`), so most events do not touch the database.
- **commands** (``help``, ``datasets``, ``stop``…) are answered at once
  (:mod:`core.chat_commands`); refusals (role, quota) likewise, with an audit entry.
- **record + enqueue**: the job goes to the queue under an id derived from the dedupe
  key and into the thread's running-jobs registry (for ``stop``). Both are Redis: the
  ack path never waits on a database write. The durable records (job row, thread
  history, usage ledger) are written by the worker when it starts the job.

If anything fails after the claim, the claim is released and the quota refunded
before the error propagates, so the adapter answers non-2xx and the platform's retry
is accepted as new: an accepted event is never dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Permission, require
from core.blobs import BlobStore
from core.chat_commands import ChatCommands
from core.commands import HELP, Command, parse_command, strip_mentions
from core.dedupe import Deduplicator
from core.delivery import ReplyLedger
from core.errors import AccessDeniedError, QuotaExceededError, StorageError
from core.events import Inbound, Reply
from core.logging import bind_inbound, get_logger
from core.member_cache import MemberCache
from core.membership import Member, identify, quota_policy
from core.metrics import NexusMetrics
from core.ports import Acceptance
from core.queue import JobKind, JobQueue, JobRequest, job_id_for
from core.quotas import Quotas, Reservation
from core.running_jobs import RunningJobs
from core.storage.db import Database
from core.storage.repositories import audit

log = get_logger("conversation")

Refusal = AccessDeniedError | QuotaExceededError


class ConversationManager:
    """Turns a normalized :class:`Inbound` into a queued job, a reply, or nothing."""

    def __init__(
        self,
        *,
        database: Database,
        dedupe: Deduplicator,
        quotas: Quotas,
        queue: JobQueue,
        ledger: ReplyLedger,
        running: RunningJobs,
        members: MemberCache,
        blobs: BlobStore,
        bootstrap_owners: Collection[str] = (),
        prefix: str = "nexus",
        metrics: NexusMetrics | None = None,
    ) -> None:
        self._db = database
        self._dedupe = dedupe
        self._quotas = quotas
        self._queue = queue
        self._running = running
        self._blobs = blobs
        self._owners = frozenset(bootstrap_owners)
        self._members = members
        self._prefix = prefix
        self._metrics = metrics or NexusMetrics()
        self._commands = ChatCommands(quotas=quotas, queue=queue, ledger=ledger, running=running)

    async def accept(self, inbound: Inbound) -> Acceptance:
        started = time.perf_counter()
        acceptance = await self._accept(inbound)
        self._metrics.accept_seconds.observe(time.perf_counter() - started)
        self._metrics.events.labels(inbound.platform, acceptance.kind).inc()
        return acceptance

    async def _accept(self, inbound: Inbound) -> Acceptance:
        if not inbound.addressed:
            return Acceptance("ignored")
        bind_inbound(inbound)  # the adapter did too; accept may run in a task of its own
        job_id = job_id_for(inbound, prefix=self._prefix)
        keys = inbound.dedupe_keys()
        if not await self._dedupe.claim(keys):
            log.info("event_duplicate", platform=inbound.platform)
            return Acceptance("duplicate")
        reservations: list[Reservation] = []
        try:
            return await self._handle(inbound, job_id, reservations)
        except BaseException as exc:
            log.warning("event_not_accepted", error=type(exc).__name__)
            # Shielded: a cancelled request must still give its claim back.
            await asyncio.shield(self._undo(keys, reservations))
            raise

    async def _undo(self, keys: list[str], reservations: list[Reservation]) -> None:
        for reservation in reservations:
            try:
                await self._quotas.refund(reservation)
            except StorageError as exc:
                log.error("refund_failed", error=str(exc))
        try:
            await self._dedupe.release(keys)
        except StorageError as exc:
            # The platform's retry will look like a duplicate until the claim expires.
            log.error("dedupe_release_failed", error=str(exc))

    async def _handle(
        self, inbound: Inbound, job_id: str, reservations: list[Reservation]
    ) -> Acceptance:
        question = strip_mentions(inbound.text)
        command = parse_command(inbound.text, inbound.command)
        member = await self._member(inbound)
        if command is not None or (not question and not inbound.files):
            return await self._answer_now(inbound, job_id, member, command)
        kind: JobKind = "answer_question" if question else "ingest_upload"
        try:
            await self._admit(inbound, member, kind, reservations)
        except (AccessDeniedError, QuotaExceededError) as refusal:
            if isinstance(refusal, QuotaExceededError):
                self._metrics.quota_refusals.labels(refusal.limit).inc()
            await self._audit_refusal(member, None, refusal)
            return self._reply(inbound, job_id, refusal.user_message)
        request = JobRequest(
            kind=kind, inbound=inbound, question=question, reservations=reservations
        )
        # Listed before it is queued, so a fast worker's "done" cannot come first.
        scope = (inbound.workspace, inbound.channel_id, inbound.thread_id, job_id)
        await self._running.add(*scope, inbound.actor_id)
        try:
            if not await self._queue.enqueue(request, job_id):
                log.info("job_already_queued", job_id=job_id)
        except BaseException:
            await asyncio.shield(self._unlist(*scope, inbound.actor_id))
            raise
        log.info("event_enqueued", job_id=job_id, kind=kind)
        return Acceptance("enqueued", job_id=job_id)

    async def _unlist(
        self, workspace: str, channel: str, thread: str | None, job_id: str, actor: str
    ) -> None:
        try:
            await self._running.remove(workspace, channel, thread, job_id, actor)
        except StorageError as exc:  # it expires; stop skips entries already settled
            log.warning("running_job_unlist_failed", error=str(exc))

    async def _member(self, inbound: Inbound) -> Member:
        version = await self._members.version(inbound.workspace)
        member = self._members.get(inbound.workspace, inbound.actor_id, version)
        if member is None:
            async with self._db.session() as session:
                member = await identify(session, inbound, bootstrap_owners=self._owners)
            self._members.put(member, version)
        return member

    async def _admit(
        self, inbound: Inbound, member: Member, kind: JobKind, reservations: list[Reservation]
    ) -> None:
        """RBAC, then quotas; raises the refusal. Counts nothing unless all pass."""
        if inbound.files:
            require(member.role, Permission.UPLOAD)
        if kind == "answer_question":
            require(member.role, Permission.ASK)
        policy = quota_policy(self._quotas.policy, member.workspace)
        ws = member.workspace.id
        # The per-user rate counts attempts, so it is not given back on a later refusal.
        await self._quotas.reserve(ws, member.user_id, "request", 1, policy=policy)
        if kind == "answer_question":
            reservations.append(
                await self._quotas.reserve(ws, member.user_id, "analysis", 1, policy=policy)
            )

    async def _answer_now(
        self, inbound: Inbound, job_id: str, member: Member, command: Command | None
    ) -> Acceptance:
        """A command (or a bare mention, which gets help), answered without a job."""
        if command is None:
            return self._reply(inbound, job_id, f"{HELP}\nYour role here: {member.role}.")
        blobs: list[str] = []
        try:
            async with self._db.session() as session:
                outcome = await self._commands.run(session, command, inbound, member)
            text, blobs = outcome.text, outcome.blobs_to_delete
        except (AccessDeniedError, QuotaExceededError) as refusal:
            await self._audit_refusal(member, command, refusal)
            text = refusal.user_message
        if command.name == "role":
            await self._members.changed(member.workspace.id)  # roles may have changed
        for key in blobs:  # after the commit: rows first, then bytes
            try:
                await self._blobs.delete(key)
            except StorageError as exc:
                log.warning("blob_delete_failed", error=str(exc))
        return self._reply(inbound, job_id, text)

    async def _audit_refusal(
        self, member: Member, command: Command | None, refusal: Refusal
    ) -> None:
        async with self._db.session() as session:
            await _append_refusal(session, member, command, refusal)

    def _reply(self, inbound: Inbound, job_id: str, text: str) -> Acceptance:
        reply = Reply.from_text(inbound.conversation(), text, idempotency_key=f"{job_id}:now")
        return Acceptance("replied", job_id=None, reply=reply)


async def _append_refusal(
    session: AsyncSession, member: Member, command: Command | None, refusal: Refusal
) -> None:
    denied = isinstance(refusal, AccessDeniedError)
    await audit.append(
        session,
        member.workspace.id,
        action="access.denied" if denied else "quota.refused",
        actor_id=member.user_id,
        target=command.name if command else None,
        detail={"role": member.role.value, "reason": str(refusal)[:300]},
    )
