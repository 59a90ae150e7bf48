"""The work of one job: fetch → ingest → store → pick tables → analyse → compose the Reply.

Called by :class:`core.pipeline.Pipeline`, which owns retries, refunds and delivery;
this module only does the work and raises when it cannot.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import plotly.graph_objects as go
from pydantic import ValidationError

from core.agents import Analyst, looks_like_followup
from core.analysis.spec import AnalysisSpec
from core.answer import Answer
from core.blobs import BlobStore
from core.charts.renderer import ChartRenderer
from core.datasets.guards import check_file_size
from core.datasets.models import DatasetProfile, Table
from core.engine import AnalysisEngine
from core.events import FileRef, Inbound, Reply
from core.llm.router import LLMRouter
from core.membership import quota_policy
from core.queue import JobRequest
from core.quotas import Quotas, Reservation
from core.replies import answer_reply, ingest_reply
from core.sandbox.protocol import Sandbox
from core.settings import IngestLimits
from core.storage.db import Database
from core.storage.models import Message
from core.storage.repositories import datasets, messages, usage, workspaces
from core.threads import TableLoader, pick_tables

Progress = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Work:
    """What a job produced: the reply, and the analysis spec behind it (if any)."""

    reply: Reply
    spec: dict[str, Any] | None = None


class _ReportingRenderer:
    """The shared warm renderer, saying "Rendering chart…" before each render."""

    def __init__(self, inner: ChartRenderer, progress: Progress) -> None:
        self._inner = inner
        self._progress = progress

    @property
    def available(self) -> bool:
        return self._inner.available

    @property
    def unavailable_reason(self) -> str | None:
        return self._inner.unavailable_reason

    async def render(self, figure: go.Figure | Mapping[str, Any], **options: Any) -> bytes:
        await self._progress("Rendering chart…")
        return await self._inner.render(figure, **options)


class Answerer:
    """Does a job's work with the worker's shared, long-lived objects."""

    def __init__(
        self,
        *,
        database: Database,
        blobs: BlobStore,
        quotas: Quotas,
        renderer: ChartRenderer | None,
        limits: IngestLimits,
        router: LLMRouter | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        self._db = database
        self._router = router
        self._sandbox = sandbox
        self._blobs = blobs
        self._quotas = quotas
        self._renderer = renderer
        self._limits = limits
        self._loader = TableLoader(blobs, limits)

    async def work(
        self,
        request: JobRequest,
        *,
        job_id: str,
        fetch: Callable[[FileRef], Awaitable[bytes]],
        progress: Progress,
        reserved: list[Reservation],
    ) -> Work:
        inbound, conversation = request.inbound, request.inbound.conversation()
        attached: list[Table] = []
        profiles: list[DatasetProfile] = []
        for ref in inbound.files:
            await progress(f"Reading {ref.name}…")
            tables, profile = await self._ingest(inbound, ref, fetch, job_id, reserved)
            attached.extend(tables)
            profiles.append(profile)
        if request.kind == "ingest_upload":
            return Work(ingest_reply(conversation, profiles, key=job_id))
        await progress("Analysing…")
        return await self._answer(request, job_id, attached, progress)

    async def _ingest(
        self,
        inbound: Inbound,
        ref: FileRef,
        fetch: Callable[[FileRef], Awaitable[bytes]],
        job_id: str,
        reserved: list[Reservation],
    ) -> tuple[list[Table], DatasetProfile]:
        if ref.size is not None:
            check_file_size(ref.name, ref.size, self._limits)  # before downloading it
        data = await fetch(ref)
        # Parse before counting the upload quota: a broken file costs the user nothing.
        parsed = await self._loader.parse(data, ref.name)
        tables, profile = [table for table, _ in parsed], parsed[0][1]
        digest = hashlib.sha256(data).hexdigest()
        ws, channel, thread = inbound.workspace, inbound.channel_id, inbound.thread_id
        async with self._db.session() as session:
            scope = await datasets.list_for_scope(session, ws, channel, thread)
            workspace = await workspaces.get(session, ws)
        for row in scope:
            # The same file again in this thread (or a re-run of this job): one dataset.
            if row.content_hash == digest and row.file_name == ref.name:
                self._loader.remember(row.blob_key, parsed)
                return tables, profile
        policy = None if workspace is None else quota_policy(self._quotas.policy, workspace)
        reservation = await self._quotas.reserve(
            ws, inbound.actor_id, "upload_bytes", len(data), policy=policy
        )
        reserved.append(reservation)
        blob_key = await self._blobs.put(ws, "datasets", uuid.uuid4().hex, data=data)
        async with self._db.session() as session:
            await datasets.add(
                session,
                ws,
                channel_id=channel,
                thread_id=thread,
                name=ref.name,
                file_name=ref.name,
                content_hash=digest,
                blob_key=blob_key,
                size_bytes=len(data),
                mime=ref.mime,
                uploaded_by=inbound.actor_id,
                profile=profile,
            )
            await usage.record(
                session,
                ws,
                kind="upload_bytes",
                amount=len(data),
                user_id=inbound.actor_id,
                job_id=job_id,
            )
        self._loader.remember(blob_key, parsed)
        return tables, profile

    async def _answer(
        self, request: JobRequest, job_id: str, attached: list[Table], progress: Progress
    ) -> Work:
        inbound = request.inbound
        ws, channel, thread = inbound.workspace, inbound.channel_id, inbound.thread_id
        async with self._db.session() as session:
            rows = await datasets.list_for_scope(session, ws, channel, thread)
            history = await messages.history(session, ws, channel, thread, limit=20)
        files = await self._loader.load_all(rows)
        last = next((m.spec for m in reversed(history) if m.role == "assistant" and m.spec), None)
        # Files attached to this message come first; otherwise stay on the table the
        # previous answer in this thread used, so follow-ups keep their subject.
        prefer = [t.name for t in attached]
        if not prefer and last and isinstance(last.get("dataset"), str):
            prefer = [last["dataset"]]
        selection = pick_tables(request.question, files, prefer=prefer)
        renderer = None
        if self._renderer is not None:
            renderer = cast(ChartRenderer, _ReportingRenderer(self._renderer, progress))
        engine = AnalysisEngine(limits=self._limits, renderer=renderer)
        analyst = Analyst(
            engine=engine, router=self._router, sandbox=self._sandbox, renderer=renderer
        )
        tables, question = selection.tables, selection.question
        context: dict[str, Any] = {
            "workspace": ws,
            "user": inbound.actor_id,
            "profiles": [self._loader.profile(table) for table in tables],
            "history": _earlier_questions(history, job_id),
            "session": f"{ws}/{channel}/{thread or '-'}",  # one sandbox per thread
        }
        previous = _previous_spec(last)
        answer: Answer
        if previous and last and not attached and looks_like_followup(question):
            # "make it a line chart", "log scale", "only 2007": an edit of the last spec.
            dataset = last.get("dataset") if isinstance(last.get("dataset"), str) else None
            answer = await analyst.answer_followup(
                tables, question, previous=previous, dataset=dataset, **context
            )
        else:
            answer = await analyst.answer(tables, question, **context)
        # Kept with the answer in the thread's history: follow-ups read "dataset", and
        # "analysis" when there is a spec to edit (code answers have none).
        spec: dict[str, Any] = {
            "dataset": answer.receipt.dataset_used,
            "method": answer.receipt.method,
        }
        if answer.receipt.method == "spec":
            spec["analysis"] = answer.spec.model_dump(mode="json", exclude_defaults=True)
        return Work(answer_reply(inbound.conversation(), answer, key=job_id), spec)


def _earlier_questions(history: list[Message], job_id: str) -> list[str]:
    """The thread's earlier questions, oldest first (this job's own is already there)."""
    return [m.text for m in history if m.role == "user" and m.job_id != job_id and m.text]


def _previous_spec(last: dict[str, Any] | None) -> AnalysisSpec | None:
    """The spec of the thread's last answer, if it had one that can be edited."""
    if not last or not isinstance(last.get("analysis"), dict):
        return None
    try:
        return AnalysisSpec.model_validate(last["analysis"])
    except ValidationError:
        return None  # stored by an older version: answer the message afresh
