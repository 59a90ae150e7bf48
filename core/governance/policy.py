"""A workspace's governance settings: retention, redaction, provider chain.

Stored as JSON under ``workspace.settings["governance"]`` (written by the admin API),
read everywhere through :func:`governance_of`, which never fails: a malformed value
(hand-edited, older version) falls back to the defaults and is logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.logging import get_logger

log = get_logger("governance.policy")

SETTINGS_KEY = "governance"

ProviderName = Literal["openai", "anthropic", "groq"]
RetentionKind = Literal["uploads", "datasets", "documents", "threads", "results"]
RETENTION_KINDS: tuple[RetentionKind, ...] = (
    "uploads",
    "datasets",
    "documents",
    "threads",
    "results",
)

_Days = Field(default=None, ge=0, le=36_500)


class Retention(BaseModel):
    """Days each kind of data is kept; ``None``: the deployment default, ``0``: forever."""

    model_config = ConfigDict(extra="forbid")

    uploads: int | None = _Days
    """Uploaded file bytes in the blob store."""
    datasets: int | None = _Days
    """Dataset rows (what a thread can still ask about)."""
    documents: int | None = _Days
    """Document rows and their chunks in the vector index."""
    threads: int | None = _Days
    """Conversation history (messages)."""
    results: int | None = _Days
    """Job records: status, errors, timings of past answers."""

    def days(self, kind: RetentionKind, default: int) -> int:
        value = getattr(self, kind)
        return default if value is None else int(value)


class Redaction(BaseModel):
    """PII masking before text reaches an external LLM provider."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    raw_data_providers: list[ProviderName] = Field(default_factory=list)
    """Providers allowed to see unredacted data (e.g. one under a DPA)."""


class Governance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retention: Retention = Field(default_factory=Retention)
    redaction: Redaction = Field(default_factory=Redaction)
    provider_chain: list[ProviderName] | None = None
    """This workspace's provider order; ``None``: the deployment's chain."""


def governance_of(workspace_settings: Mapping[str, Any]) -> Governance:
    raw = workspace_settings.get(SETTINGS_KEY)
    if raw is None:
        return Governance()
    try:
        return Governance.model_validate(raw)
    except ValidationError as exc:
        log.warning("governance.invalid_settings", errors=exc.error_count())
        return Governance()
