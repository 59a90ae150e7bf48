"""The work of one job: fetch → ingest → store → pick tables → analyse → compose the Reply.

Called by :class:`core.pipeline.Pipeline`, which owns retries, refunds and delivery;
this module only does the work and raises when it cannot.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from pydantic import ValidationError

from core.agents import Analyst, looks_like_followup
from core.analysis.spec import AnalysisSpec
from core.answer import Answer
from core.blobs import BlobStore
from core.charts.renderer import ChartRenderer
from core.charts.reporting import ReportingRenderer
from core.datasets.guards import check_file_size
from core.datasets.models import DatasetProfile, Table
from core.documents.reading import is_document
from core.engine import AnalysisEngine
from core.events import FileRef, Inbound, Reply
from core.governance.policy import governance_of
from core.llm.router import LLMRouter
from core.membership import quota_policy
from core.queue import JobRequest
from core.quotas import Quotas, Reservation
from core.replies import answer_reply, describe_document, ingest_reply
from core.retrieval.library import DocumentLibrary, IngestedDocument
from core.retrieval.questions import ThreadState, answer_if_documents, references_for
from core.sandbox.protocol import Sandbox
from core.settings import IngestLimits
from core.stopwatch import Stopwatch
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
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Milliseconds per stage (fetch, ingest, profile, plan, execute, render, ...)."""


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
        documents: DocumentLibrary | None = None,
    ) -> None:
        self._documents = documents
        """Document ingestion and search; None: documents are refused as before."""
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
        documents: list[IngestedDocument] = []
        timings = Stopwatch()

        async def download(ref: FileRef) -> bytes:
            with timings.stage("fetch"):
                return await fetch(ref)

        for ref in inbound.files:
            await progress(f"Reading {ref.name}…")
            with timings.stage("ingest"):
                read = await self._ingest(inbound, ref, download, job_id, reserved)
            if isinstance(read, IngestedDocument):
                documents.append(read)
                continue
            attached.extend(read[0])
            profiles.append(read[1])
        timings.exclude("ingest", "fetch")  # ingest is parse + store; fetch is the download
        if request.kind == "ingest_upload":
            lines = [
                describe_document(d.file_name, pages=d.pages, passages=d.chunks, new=d.created)
                for d in documents
            ]
            reply = ingest_reply(conversation, profiles, key=job_id, documents=lines)
            return Work(reply, None, timings.timings_ms)
        await progress("Analysing…")
        work = await self._answer(
            request, job_id, attached, progress, documents_attached=bool(documents)
        )
        return replace(work, timings_ms={**timings.timings_ms, **work.timings_ms})

    async def _ingest(
        self,
        inbound: Inbound,
        ref: FileRef,
        fetch: Callable[[FileRef], Awaitable[bytes]],
        job_id: str,
        reserved: list[Reservation],
    ) -> tuple[list[Table], DatasetProfile] | IngestedDocument:
        if ref.size is not None:
            check_file_size(ref.name, ref.size, self._limits)  # before downloading it
        data = await fetch(ref)
        if self._documents is not None and is_document(data, ref.name):
            return await self._documents.ingest(
                data,
                file_name=ref.name,
                workspace=inbound.workspace,
                channel=inbound.channel_id,
                thread=inbound.thread_id,
                mime=ref.mime,
                uploaded_by=inbound.actor_id,
                before_store=lambda size: self._charge_upload(inbound, size, job_id, reserved),
            )
        # Parse before counting the upload quota: a broken file costs the user nothing.
        parsed = await self._loader.parse(data, ref.name)
        tables, profile = [table for table, _ in parsed], parsed[0][1]
        digest = hashlib.sha256(data).hexdigest()
        ws, channel, thread = inbound.workspace, inbound.channel_id, inbound.thread_id
        async with self._db.session() as session:
            scope = await datasets.list_for_scope(session, ws, channel, thread)
        for row in scope:
            # The same file again in this thread (or a re-run of this job): one dataset.
            if row.content_hash == digest and row.file_name == ref.name:
                self._loader.remember(row.blob_key, parsed)
                return tables, profile
        await self._reserve_upload(inbound, len(data), reserved)
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

    async def _reserve_upload(
        self, inbound: Inbound, size: int, reserved: list[Reservation]
    ) -> None:
        """Count an upload against the workspace's quota (raises when it is used up)."""
        ws = inbound.workspace
        async with self._db.session() as session:
            workspace = await workspaces.get(session, ws)
        policy = None if workspace is None else quota_policy(self._quotas.policy, workspace)
        reserved.append(
            await self._quotas.reserve(ws, inbound.actor_id, "upload_bytes", size, policy=policy)
        )

    async def _charge_upload(
        self, inbound: Inbound, size: int, job_id: str, reserved: list[Reservation]
    ) -> None:
        """Reserve and record an upload that adds new content (a document)."""
        await self._reserve_upload(inbound, size, reserved)
        async with self._db.session() as session:
            await usage.record(
                session,
                inbound.workspace,
                kind="upload_bytes",
                amount=size,
                user_id=inbound.actor_id,
                job_id=job_id,
            )

    async def _answer(
        self,
        request: JobRequest,
        job_id: str,
        attached: list[Table],
        progress: Progress,
        *,
        documents_attached: bool = False,
    ) -> Work:
        inbound = request.inbound
        ws, channel, thread = inbound.workspace, inbound.channel_id, inbound.thread_id
        async with self._db.session() as session:
            rows = await datasets.list_for_scope(session, ws, channel, thread)
            history = await messages.history(session, ws, channel, thread, limit=20)
            workspace = await workspaces.get(session, ws)
        # The workspace's own provider order (admin API), else the deployment's.
        chain = None if workspace is None else governance_of(workspace.settings).provider_chain
        last = next((m.spec for m in reversed(history) if m.role == "assistant" and m.spec), None)
        if self._documents is not None and not attached:
            state = ThreadState(bool(rows), last is not None, documents_attached)
            cited = await answer_if_documents(
                self._documents, self._router, inbound, request.question, state, key=job_id
            )
            if cited is not None:
                return Work(*cited)
        files = await self._loader.load_all(rows)
        # Files attached to this message come first; otherwise stay on the table the
        # previous answer in this thread used, so follow-ups keep their subject.
        prefer = [t.name for t in attached]
        if not prefer and last and isinstance(last.get("dataset"), str):
            prefer = [last["dataset"]]
        selection = pick_tables(request.question, files, prefer=prefer)
        renderer = None
        if self._renderer is not None:
            renderer = cast(ChartRenderer, ReportingRenderer(self._renderer, progress))
        engine = AnalysisEngine(limits=self._limits, renderer=renderer)
        analyst = Analyst(
            engine=engine,
            router=self._router,
            sandbox=self._sandbox,
            renderer=renderer,
            chain=chain,
        )
        tables, question = selection.tables, selection.question
        context: dict[str, Any] = {
            "workspace": ws,
            "user": inbound.actor_id,
            "profiles": [self._loader.profile(table) for table in tables],
            "history": _earlier_questions(history, job_id),
            "session": f"{ws}/{channel}/{thread or '-'}",  # one sandbox per thread
        }
        if self._documents is not None:  # definitions and rules, read when the LLM is asked
            context["references"] = references_for(self._documents, inbound)
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
        reply = answer_reply(inbound.conversation(), answer, key=job_id)
        return Work(reply, spec, dict(answer.receipt.timings_ms))


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
