"""Request and response bodies of the admin API; the OpenAPI document is built from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.access import Role
from core.governance.policy import ProviderName, Redaction, Retention


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    error: str
    """What happened and what to do, in one or two sentences."""


class WorkspaceOut(BaseModel):
    id: str
    platform: str
    name: str | None
    created_at: datetime
    members: int


class WorkspaceList(BaseModel):
    items: list[WorkspaceOut]


class GovernanceOut(BaseModel):
    retention: Retention
    redaction: Redaction
    default_retention_days: int
    """Applies to every kind whose value is null (0 = keep forever)."""


class GovernancePatch(_Strict):
    retention: Retention | None = None
    redaction: Redaction | None = None


class MemberOut(BaseModel):
    user_id: str
    role: Role
    created_at: datetime


class MemberList(BaseModel):
    items: list[MemberOut]


class RoleIn(_Strict):
    role: Role


class QuotasOut(BaseModel):
    overrides: dict[str, float]
    effective: dict[str, float | None]
    """null = unlimited."""


class QuotasPatch(_Strict):
    """Only the limits given change; 0 = unlimited, null removes the override."""

    analyses_per_day: int | None = Field(default=None, ge=0, le=10**12)
    tokens_per_day: int | None = Field(default=None, ge=0, le=10**15)
    tokens_per_month: int | None = Field(default=None, ge=0, le=10**15)
    cost_usd_per_day: float | None = Field(default=None, ge=0, le=10**9)
    cost_usd_per_month: float | None = Field(default=None, ge=0, le=10**9)
    upload_bytes_per_day: int | None = Field(default=None, ge=0, le=10**15)
    sandbox_seconds_per_day: int | None = Field(default=None, ge=0, le=10**9)
    requests_per_user_per_minute: int | None = Field(default=None, ge=0, le=10**6)


Format = Literal["json", "csv"]


class UsageQuery(_Strict):
    since: datetime | None = None
    """Inclusive, default: 30 days before ``until``."""
    until: datetime | None = None
    """Exclusive, default: now."""
    format: Format = "json"


class UsageDay(BaseModel):
    model_config = ConfigDict(extra="allow")

    day: str


class UsageReport(BaseModel):
    since: datetime
    until: datetime
    days: list[UsageDay]
    totals: dict[str, float]


class AuditQuery(_Strict):
    since: datetime | None = None
    until: datetime | None = None
    action: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=1000, ge=1, le=10_000)
    format: Format = "json"


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: str | None
    action: str
    target: str | None
    detail: dict[str, Any]


class AuditLog(BaseModel):
    items: list[AuditEntryOut]


class DatasetOut(BaseModel):
    id: str
    channel_id: str
    thread_id: str
    name: str
    file_name: str
    size_bytes: int
    created_at: datetime
    uploaded_by: str | None


class DatasetList(BaseModel):
    items: list[DatasetOut]


class DocumentOut(BaseModel):
    id: str
    channel_id: str
    thread_id: str
    file_name: str
    size_bytes: int
    chunk_count: int
    created_at: datetime
    uploaded_by: str | None


class DocumentList(BaseModel):
    items: list[DocumentOut]


class ProvidersOut(BaseModel):
    chain: list[ProviderName] | None
    """This workspace's order; null: the deployment default."""
    default_chain: list[str]
    configured: list[str]
    """Providers this deployment has keys for."""


class ProvidersIn(_Strict):
    chain: list[ProviderName] | None = Field(max_length=3)


class KeyOut(BaseModel):
    id: str
    role: Role
    name: str | None
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    rate_limit_per_minute: int | None


class KeyList(BaseModel):
    items: list[KeyOut]
