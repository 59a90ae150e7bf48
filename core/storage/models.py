"""The relational schema of Nexus (SQLAlchemy 2 typed declarative).

Every table but ``workspaces`` carries ``workspace_id`` and every repository query
filters on it (workspace isolation). Scope columns (``channel_id``, ``thread_id``)
say where a dataset or conversation lives; ``thread_id`` is ``""`` (:data:`NO_THREAD`)
rather than NULL for "not in a thread", so unique constraints hold on PostgreSQL,
where NULLs never collide.

Migrations live in ``core/storage/migrations``; a change here needs a new revision
(the migration test fails otherwise).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime

NO_THREAD = ""
"""``thread_id`` of something posted at channel level, outside any thread."""

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


def _workspace_fk(*, primary_key: bool = False) -> Mapped[str]:
    # ON DELETE CASCADE: deleting a workspace removes all of its rows, nothing orphaned.
    return mapped_column(
        String(200), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=primary_key
    )


def _id() -> Mapped[str]:
    return mapped_column(String(64), primary_key=True)


# 64-bit serial ids on PostgreSQL; SQLite only autoincrements an INTEGER primary key.
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")


def _serial() -> Mapped[int]:
    return mapped_column(_SERIAL, primary_key=True, autoincrement=True)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    """``<platform>:<platform workspace id>``."""
    platform: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """``default_role``, quota policy overrides, provider choices."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    __tablename__ = "members"

    workspace_id: Mapped[str] = _workspace_fk(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChannelPolicy(Base):
    __tablename__ = "channel_policies"

    workspace_id: Mapped[str] = _workspace_fk(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Per-channel overrides (e.g. ``answer_without_mention``, ``allow_code``)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Dataset(Base):
    """A file uploaded into one scope (workspace, channel, thread)."""

    __tablename__ = "datasets"
    __table_args__ = (Index(None, "workspace_id", "channel_id", "thread_id"),)

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(200))
    thread_id: Mapped[str] = mapped_column(String(200), default=NO_THREAD)
    name: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(300))
    mime: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(BigInteger(), default=0)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    blob_key: Mapped[str] = mapped_column(String(1000))
    profile: Mapped[dict[str, Any] | None] = mapped_column()
    """A :class:`core.datasets.models.DatasetProfile` as JSON."""
    uploaded_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()


class Conversation(Base):
    """One thread (or channel, outside threads) Nexus has talked in."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "thread_id"),)

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(200))
    thread_id: Mapped[str] = mapped_column(String(200), default=NO_THREAD)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """One turn of a conversation: what the user asked or what Nexus answered."""

    __tablename__ = "messages"
    __table_args__ = (Index(None, "workspace_id", "conversation_id", "id"),)

    id: Mapped[int] = _serial()
    workspace_id: Mapped[str] = _workspace_fk()
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))
    """``user`` or ``assistant``."""
    actor_id: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any] | None] = mapped_column()
    """The analysis spec behind an answer, so follow-ups can edit it."""
    job_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    """Derived from the event's dedupe key, so a redelivery maps onto the same job."""
    workspace_id: Mapped[str] = _workspace_fk()
    kind: Mapped[str] = mapped_column(String(32), default="analysis")
    channel_id: Mapped[str | None] = mapped_column(String(200))
    thread_id: Mapped[str | None] = mapped_column(String(200))
    actor_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    """``queued``, ``running``, ``succeeded``, ``failed`` or ``refused``."""
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class UsageEntry(Base):
    """The durable record of consumption, next to Redis's fast counters."""

    __tablename__ = "usage_ledger"
    __table_args__ = (Index(None, "workspace_id", "kind", "at"),)

    id: Mapped[int] = _serial()
    workspace_id: Mapped[str] = _workspace_fk()
    user_id: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    """``analysis``, ``tokens_in``, ``tokens_out``, ``cost_usd``, ``upload_bytes``,
    ``sandbox_seconds``."""
    amount: Mapped[float] = mapped_column()
    job_id: Mapped[str | None] = mapped_column(String(300), index=True)
    refunded: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "workspace_id", "at"),)

    id: Mapped[int] = _serial()
    workspace_id: Mapped[str] = _workspace_fk()
    actor_id: Mapped[str | None] = mapped_column(String(200))
    """None for actions taken by Nexus itself (bootstrap, quota refunds)."""
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Installation(Base):
    """A platform app installed into a workspace (OAuth result).

    ``data`` holds the bot token and friends in plain JSON for now; encrypting it at
    rest (a key from settings) is planned, so read and write it only through the
    repository functions.
    """

    __tablename__ = "installations"

    workspace_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    """Not a foreign key: installation may precede the workspace's first message."""
    platform: Mapped[str] = mapped_column(String(32))
    installed_by: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationReference(Base):
    """What an adapter needs to post into a conversation later (Teams proactive)."""

    __tablename__ = "conversation_references"

    workspace_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    """A text document (PDF, DOCX, Markdown, text, HTML) uploaded into one scope.

    Its chunks live in Milvus under the same ``id``; this row is the catalogue that
    ``forget``, retention and the admin API read. One row per (scope, content): a
    re-upload of the same bytes into the same thread finds this row and adds nothing.
    """

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "thread_id", "content_hash"),
        Index(None, "workspace_id", "created_at"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(200))
    thread_id: Mapped[str] = mapped_column(String(200), default=NO_THREAD)
    file_name: Mapped[str] = mapped_column(String(300))
    mime: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(BigInteger(), default=0)
    content_hash: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column()
    chunk_count: Mapped[int] = mapped_column(default=0)
    uploaded_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A bearer key for the admin API, scoped to one workspace and one role.

    Only a SHA-256 digest of the secret is stored (the secret is 256 random bits, so
    no slow hash is needed); the key id is the lookup prefix shown in the token.
    """

    __tablename__ = "api_keys"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace_fk()
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    rate_limit_per_minute: Mapped[int | None] = mapped_column()
    """None: the deployment default (``NEXUS_ADMIN_API_RATE_LIMIT``)."""
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
