"""What travels between adapters, the conversation manager and workers.

An adapter turns a platform payload into an :class:`Inbound`; a worker answers with
a :class:`Reply` that the adapter renders natively. Both are plain pydantic models
holding only JSON values (ids, URLs, strings, numbers) and never live SDK objects,
because they cross process boundaries inside ARQ jobs serialized as JSON.

Images and files in a reply carry either their bytes inline (base64) or a blob-store
key, exactly one of the two. Inline is the default: a chart PNG is ~50-300 KB and a
self-contained reply can be posted by any process (CLI, playground, an adapter with
no blob store). A blob key is for payloads too large to pass through Redis
(above :data:`MAX_INLINE_BYTES`); the adapter then reads them from the workspace's
blob store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

Platform = Literal["slack", "discord", "teams", "playground", "test"]

MAX_INLINE_BYTES = 8 * 1024 * 1024
"""Largest payload carried inline in a reply; anything bigger goes by blob key."""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def workspace_key(platform: str, platform_workspace_id: str) -> str:
    """The Nexus workspace id: ``<platform>:<platform workspace id>`` (e.g. ``slack:T123``)."""
    return f"{platform}:{platform_workspace_id}"


class _Model(BaseModel):
    # frozen: events are facts; extra=forbid: a typo in an adapter fails loudly.
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileRef(_Model):
    """A file attached to a message, by reference: the worker downloads it later."""

    id: str
    """The platform's file or attachment id."""
    name: str
    size: int | None = Field(default=None, ge=0)
    """Bytes, when the platform says (Teams channel files may not)."""
    mime: str | None = None
    download_url: str | None = None
    auth: Literal["none", "platform"] = "none"
    """``platform``: the download needs the installation's credential (Slack bearer)."""
    extra: dict[str, JsonValue] = Field(default_factory=dict)
    """Platform-specific download details (never secrets)."""


class ConversationRef(_Model):
    """Where a reply goes: one channel and thread on one platform workspace."""

    platform: Platform
    workspace_id: str
    """The platform's own workspace id (Slack team, Discord guild, Teams tenant)."""
    channel_id: str
    thread_id: str | None = None
    """Thread root (Slack parent ts, Teams ``;messageid=`` root); None: no thread."""
    data: dict[str, JsonValue] = Field(default_factory=dict)
    """What the adapter needs to post here (Teams service URL, Discord interaction token)."""

    @property
    def workspace(self) -> str:
        """The Nexus workspace id (``slack:T123``)."""
        return workspace_key(self.platform, self.workspace_id)


class Inbound(_Model):
    """One addressed (or observed) user message, normalized from any platform."""

    platform: Platform
    workspace_id: str
    """The platform's own workspace id; see :attr:`workspace` for the Nexus id."""
    channel_id: str
    thread_id: str | None = None
    message_id: str
    """The platform message id (Slack ts, Discord message/interaction id, Teams activity id)."""
    event_id: str
    """The delivery's own id (Slack event_id, Discord interaction id, Teams activity id)."""
    actor_id: str
    actor_name: str | None = None
    text: str = ""
    files: list[FileRef] = Field(default_factory=list)
    mentioned: bool = False
    """The bot was @mentioned."""
    direct: bool = False
    """A direct message to the bot."""
    command: str | None = None
    """A slash command's name (``ask``), when the message is one."""
    received_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    conversation_data: dict[str, JsonValue] = Field(default_factory=dict)
    """Copied into :meth:`conversation` so the reply can be posted back."""

    @field_validator("received_at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        # Naive datetimes are ambiguous across processes; we only keep UTC.
        if value.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        return value.astimezone(UTC)

    @property
    def workspace(self) -> str:
        """The Nexus workspace id (``slack:T123``)."""
        return workspace_key(self.platform, self.workspace_id)

    @property
    def addressed(self) -> bool:
        """Whether Nexus was asked something (mention, DM or command)."""
        return self.mentioned or self.direct or self.command is not None

    def dedupe_keys(self) -> list[str]:
        """The event-id key and the (channel, message id) key of this delivery.

        Both are needed: Slack sends ``app_mention`` and ``message`` for one tagged
        message (two event ids, one channel+ts), and every platform redelivers
        with the same event id.
        """
        return [
            f"{self.workspace}:event:{self.event_id}",
            f"{self.workspace}:message:{self.channel_id}:{self.message_id}",
        ]

    @property
    def correlation_id(self) -> str:
        """The id every log line about this message carries, from the adapter's ack to
        the posted reply: a hash of the (channel, message id) dedupe key, so redeliveries
        and Slack's two events for one message share it (it ends the job id, too)."""
        return hashlib.sha256(self.dedupe_keys()[1].encode()).hexdigest()[:32]

    def conversation(self) -> ConversationRef:
        """Where the answer to this message is posted."""
        return ConversationRef(
            platform=self.platform,
            workspace_id=self.workspace_id,
            channel_id=self.channel_id,
            thread_id=self.thread_id,
            data=self.conversation_data,
        )


class TextSegment(_Model):
    kind: Literal["text"] = "text"
    text: str


TableCell = str | int | float | bool | None


class TableSegment(_Model):
    kind: Literal["table"] = "table"
    columns: list[str]
    rows: list[list[TableCell]]
    truncated: bool = False
    """More rows exist than are shown; :attr:`total_rows` says how many."""
    total_rows: int | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _rectangular(self) -> Self:
        width = len(self.columns)
        if any(len(row) != width for row in self.rows):
            raise ValueError("every table row must have one cell per column")
        return self


class _Payload(_Model):
    """Bytes carried inline (base64) or by blob key — exactly one of the two."""

    data_base64: str | None = None
    blob_key: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.data_base64 is None) == (self.blob_key is None):
            raise ValueError("give exactly one of data_base64 and blob_key")
        if self.data_base64 is not None:
            try:
                raw = base64.b64decode(self.data_base64, validate=True)
            except binascii.Error as exc:
                raise ValueError("data_base64 is not valid base64") from exc
            if len(raw) > MAX_INLINE_BYTES:
                raise ValueError("payload too large to inline; store it and pass blob_key")
            self._check_bytes(raw)
        return self

    def _check_bytes(self, raw: bytes) -> None:
        """Subclasses validate the decoded content."""

    def inline_bytes(self) -> bytes | None:
        """The decoded bytes, or None when the payload is in the blob store."""
        return None if self.data_base64 is None else base64.b64decode(self.data_base64)


class ImageSegment(_Payload):
    """A PNG (a rendered chart)."""

    kind: Literal["image"] = "image"
    alt: str = ""
    file_name: str = "chart.png"

    def _check_bytes(self, raw: bytes) -> None:
        if not raw.startswith(PNG_MAGIC):
            raise ValueError("image segments carry PNG bytes")

    @classmethod
    def from_png(cls, png: bytes, *, alt: str = "", file_name: str = "chart.png") -> ImageSegment:
        return cls(data_base64=base64.b64encode(png).decode("ascii"), alt=alt, file_name=file_name)


class FileSegment(_Payload):
    """A downloadable file (e.g. a CSV export of the result)."""

    kind: Literal["file"] = "file"
    file_name: str
    mime: str = "application/octet-stream"
    size: int | None = Field(default=None, ge=0)

    @classmethod
    def from_bytes(cls, data: bytes, *, file_name: str, mime: str) -> FileSegment:
        encoded = base64.b64encode(data).decode("ascii")
        return cls(data_base64=encoded, file_name=file_name, mime=mime, size=len(data))


class Citation(_Model):
    title: str
    """The document (file name) the passage comes from."""
    location: str | None = None
    """Page, sheet or section (``p. 3``)."""
    snippet: str | None = None
    url: str | None = None


class CitationsSegment(_Model):
    kind: Literal["citations"] = "citations"
    citations: list[Citation]


class ReceiptSegment(_Model):
    """How the answer was made, short enough to show under it."""

    kind: Literal["receipt"] = "receipt"
    method: Literal["spec", "llm_spec", "code", "retrieval", "none"] = "spec"
    planner: Literal["deterministic", "llm"] | None = None
    """Who wrote the spec of a ``spec`` answer: the rule planner or the LLM."""
    sources: list[str] = Field(default_factory=list)
    """Dataset or document names used."""
    rows_used: int | None = None
    spec: dict[str, JsonValue] | None = None
    code: str | None = None
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    duration_ms: int | None = None
    cached: bool = False
    notes: list[str] = Field(default_factory=list)


Segment = Annotated[
    TextSegment | TableSegment | ImageSegment | FileSegment | CitationsSegment | ReceiptSegment,
    Field(discriminator="kind"),
]


class Reply(_Model):
    """An answer to post into one conversation, exactly once."""

    conversation: ConversationRef
    segments: list[Segment]
    idempotency_key: str
    """Derived from the job id: the adapter posts a reply with a given key only once."""

    @property
    def text(self) -> str:
        """All text segments joined: the fallback for platforms that need plain text."""
        return "\n\n".join(s.text for s in self.segments if isinstance(s, TextSegment))

    @classmethod
    def from_text(cls, conversation: ConversationRef, text: str, *, idempotency_key: str) -> Reply:
        """A plain text reply (refusals, errors, acknowledgements)."""
        return cls(
            conversation=conversation,
            segments=[TextSegment(text=text)],
            idempotency_key=idempotency_key,
        )
