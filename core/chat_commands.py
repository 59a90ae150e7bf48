"""What each chat command does (parsing is in :mod:`core.commands`).

Every handler runs in the conversation manager's database transaction and returns
the text to post. Permission checks raise ``AccessDeniedError``; the manager turns it
into the reply and an ``access.denied`` audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Permission, Role, can_assign, require
from core.commands import HELP, Command, user_id_of
from core.datasets.guards import format_bytes
from core.delivery import ReplyLedger
from core.errors import AccessDeniedError
from core.events import Inbound
from core.membership import Member, quota_policy
from core.queue import JobQueue
from core.quota_messages import _duration
from core.quotas import Quotas
from core.replies import STOPPED, describe
from core.running_jobs import RunningJobs
from core.storage.repositories import audit, datasets, documents, jobs, members, usage


@dataclass
class Outcome:
    text: str
    blobs_to_delete: list[str] = field(default_factory=list)
    """Removed only after the transaction commits (``forget``)."""


def _amount(name: str, value: float) -> str:
    if "bytes" in name:
        return format_bytes(int(value))
    if "usd" in name:
        return f"${value:,.2f}"
    if "seconds" in name:
        return f"{value:,.0f} s"
    return f"{value:,.0f}"


class ChatCommands:
    def __init__(
        self, *, quotas: Quotas, queue: JobQueue, ledger: ReplyLedger, running: RunningJobs
    ) -> None:
        self._quotas = quotas
        self._queue = queue
        self._ledger = ledger
        self._running = running

    async def run(
        self, session: AsyncSession, command: Command, inbound: Inbound, member: Member
    ) -> Outcome:
        handler = getattr(self, f"_{command.name}")
        outcome: Outcome = await handler(session, command, inbound, member)
        return outcome

    async def _help(self, _s: AsyncSession, _c: Command, _i: Inbound, member: Member) -> Outcome:
        return Outcome(f"{HELP}\nYour role here: {member.role}.")

    async def _datasets(
        self, session: AsyncSession, _c: Command, inbound: Inbound, member: Member
    ) -> Outcome:
        rows = await datasets.list_for_scope(
            session, member.workspace.id, inbound.channel_id, inbound.thread_id
        )
        if not rows:
            return Outcome(
                "No files in this thread yet. Upload a CSV, Excel, JSON or Parquet file "
                "here and ask me about it."
            )
        lines = []
        for number, row in enumerate(rows, 1):
            profile = datasets.profile_of(row)
            lines.append(f"{number}. {describe(profile) if profile else row.file_name}")
        return Outcome(f"This thread knows {len(rows)} file(s):\n" + "\n".join(lines))

    async def _forget(
        self, session: AsyncSession, _c: Command, inbound: Inbound, member: Member
    ) -> Outcome:
        require(member.role, Permission.UPLOAD)
        ws, scope = member.workspace.id, (inbound.channel_id, inbound.thread_id)
        gone = await datasets.forget_scope(session, ws, *scope)
        # Documents: their rows go now, which is what retrieval reads, so they are never
        # cited again; their Milvus chunks are purged by the worker (core.retrieval.library).
        docs = await documents.forget_scope(session, ws, *scope)
        if not gone and not docs:
            return Outcome("This thread has no files to forget.")
        await audit.append(
            session,
            ws,
            action="datasets.forgotten",
            actor_id=member.user_id,
            target=inbound.channel_id,
            detail={
                "thread": inbound.thread_id,
                "datasets": [d.id for d in gone],
                "documents": [d.id for d in docs],
            },
        )
        names = ", ".join([*(d.file_name for d in gone), *(d.file_name for d in docs)])
        return Outcome(
            f"Forgot {len(gone) + len(docs)} file(s) in this thread: {names}.",
            blobs_to_delete=[d.blob_key for d in gone],
        )

    async def _usage(
        self, session: AsyncSession, _c: Command, _i: Inbound, member: Member
    ) -> Outcome:
        require(member.role, Permission.VIEW_USAGE)
        now = datetime.now(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        lines = []
        for label, since in (("Today", day), ("This month", day.replace(day=1))):
            t = await usage.totals(session, member.workspace.id, since=since)
            tokens = int(t["tokens_in"] + t["tokens_out"])
            lines.append(
                f"{label}: {t['analysis']:,.0f} analyses, {format_bytes(int(t['upload_bytes']))} "
                f"uploaded, {tokens:,} LLM tokens (${t['cost_usd']:,.2f}), "
                f"{t['sandbox_seconds']:,.0f} s of code execution."
            )
        return Outcome("Usage of this workspace (refunds excluded):\n" + "\n".join(lines))

    async def _quota(
        self, _s: AsyncSession, _c: Command, inbound: Inbound, member: Member
    ) -> Outcome:
        require(member.role, Permission.VIEW_USAGE)
        policy = quota_policy(self._quotas.policy, member.workspace)
        now = datetime.now(UTC)
        lines = []
        for limit in await self._quotas.usage(
            member.workspace.id, user=inbound.actor_id, policy=policy
        ):
            name = limit.name.replace("_", " ")
            if limit.limit is None:
                lines.append(f"• {name}: {_amount(limit.name, limit.used)} used, no limit")
                continue
            lines.append(
                f"• {name}: {_amount(limit.name, limit.used)} of {_amount(limit.name, limit.limit)}"
                f", resets {limit.resets_at:%Y-%m-%d %H:%M} UTC "
                f"(in {_duration(limit.resets_at - now)})"
            )
        return Outcome("Quotas of this workspace:\n" + "\n".join(lines))

    async def _role(
        self, session: AsyncSession, command: Command, _i: Inbound, member: Member
    ) -> Outcome:
        ws, args = member.workspace.id, command.args
        if not args:
            return Outcome(f"Your role here is {member.role}.")
        target = user_id_of(args[0])
        if target is None:
            return Outcome("Usage: `role @user ROLE` (owner, admin, analyst or viewer).")
        current = await members.get_role(session, ws, target)
        if len(args) == 1:
            return Outcome(f"<@{target}> is {current or 'not a member yet'}.")
        try:
            new = Role(args[1].lower())
        except ValueError:
            return Outcome(f"{args[1]} is not a role. Roles: owner, admin, analyst, viewer.")
        require(member.role, Permission.MANAGE_MEMBERS)
        if not can_assign(member.role, current, new):
            raise AccessDeniedError(
                "Only a workspace owner can make someone an owner or change an owner's role.",
                detail=f"{member.role} may not change {current} to {new}",
            )
        last_owner = current is Role.OWNER and new is not Role.OWNER
        if last_owner and await members.count_with_role(session, ws, Role.OWNER) <= 1:
            return Outcome("That is the last owner; make someone else owner first.")
        await members.set_role(session, ws, target, new)
        await audit.append(
            session,
            ws,
            action="role.set",
            actor_id=member.user_id,
            target=target,
            detail={"from": current.value if current else None, "to": new.value},
        )
        return Outcome(f"<@{target}> is now {new}.")

    async def _stop(
        self, session: AsyncSession, _c: Command, inbound: Inbound, member: Member
    ) -> Outcome:
        ws, scope = member.workspace.id, (inbound.channel_id, inbound.thread_id)
        for job_id, asker in await self._running.listed(ws, *scope):  # newest first
            if asker != member.user_id:
                require(member.role, Permission.MANAGE_MEMBERS)
            # Taking the job's reply slot is what makes stop safe: whatever the worker
            # does now, it can no longer post its answer.
            beaten_by = await self._ledger.stop(job_id)
            if beaten_by is not None and beaten_by.startswith("sending:"):
                return Outcome("Too late to stop: the answer is being posted right now.")
            if beaten_by is not None:  # answered or stopped already: a stale entry
                await self._running.remove(ws, *scope, job_id, asker)
                continue
            await self._queue.abort(job_id)
            await self._running.remove(ws, *scope, job_id, asker)
            await self._record_stop(session, member, scope, job_id, asker)
            return Outcome(STOPPED)
        return Outcome("Nothing is running in this thread.")

    async def _record_stop(
        self,
        session: AsyncSession,
        member: Member,
        scope: tuple[str, str | None],
        job_id: str,
        asker: str,
    ) -> None:
        ws = member.workspace.id
        if await jobs.update_status(session, ws, job_id, "failed", error="stopped") is None:
            # Not started yet: its row is written here, as stopped.
            await jobs.create(
                session, ws, job_id, channel_id=scope[0], thread_id=scope[1], actor_id=asker
            )
            await jobs.update_status(session, ws, job_id, "failed", error="stopped")
        await audit.append(
            session, ws, action="job.stopped", actor_id=member.user_id, target=job_id
        )
