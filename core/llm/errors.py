"""Classifying one provider call's failure, and the messages users see about it.

Every provider maps its SDK's exceptions to a :class:`ProviderFailure` with a
:class:`FailureKind`. The router only looks at the kind:

- retryable (fail over to the next provider): rate limited, 5xx/408/409, timeout,
  unreachable, malformed output;
- fatal (stop, tell the user who refused): auth (401/402/403), bad request
  (other 4xx), content policy (a 400 flagged as such, or a refusal in a 200).

Malformed output (tool-call arguments or structured output that is not a JSON
object) fails over to the *next* provider rather than asking the same one again: at
temperature 0 the same model tends to repeat itself. It does not count against the
provider's circuit breaker (the provider is up), but its tokens were billed, so the
failure carries its usage and the router records the cost.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from core.errors import InternalError, ProviderRequestError

# A Retry-After longer than this is treated as this long: a misbehaving header
# must not take a provider out of rotation for hours.
MAX_RETRY_AFTER_SECONDS = 600.0


class FailureKind(StrEnum):
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    MALFORMED_OUTPUT = "malformed_output"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    CONTENT_POLICY = "content_policy"


RETRYABLE = frozenset(
    {
        FailureKind.RATE_LIMITED,
        FailureKind.SERVER_ERROR,
        FailureKind.TIMEOUT,
        FailureKind.UNREACHABLE,
        FailureKind.MALFORMED_OUTPUT,
    }
)
# Failures that say the provider itself is unhealthy, so they trip its breaker.
UNHEALTHY = RETRYABLE - {FailureKind.MALFORMED_OUTPUT}

_CONTENT_POLICY_MARKERS = ("content_policy", "content_filter", "moderation", "safety")


class ProviderFailure(InternalError):
    """One provider call failed; ``kind`` decides whether the router fails over."""

    def __init__(
        self,
        provider: str,
        kind: FailureKind,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        model: str | None = None,
        tokens_in: int = 0,
        tokens_out: int = 0,
        detail: str = "",
    ) -> None:
        super().__init__(f"{provider}: {kind.value} ({status or '-'}) {detail}".strip())
        self.provider = provider
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.model = model
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    @property
    def unhealthy(self) -> bool:
        return self.kind in UNHEALTHY

    @property
    def label(self) -> str:
        """A few words for the user-facing outage summary, e.g. ``500`` or ``timeout``."""
        if self.kind is FailureKind.SERVER_ERROR and self.status:
            return str(self.status)
        return {
            FailureKind.RATE_LIMITED: "rate limited",
            FailureKind.SERVER_ERROR: "server error",
            FailureKind.TIMEOUT: "timeout",
            FailureKind.UNREACHABLE: "unreachable",
            FailureKind.MALFORMED_OUTPUT: "unusable answer",
        }.get(self.kind, self.kind.value)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``retry-after`` (seconds or HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return _clamp(float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return _clamp(float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return _clamp(when.timestamp() - (time.time() if now is None else now))


def _clamp(seconds: float) -> float:
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def classify_status(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    body: object,
    *,
    model: str | None = None,
) -> ProviderFailure:
    """Map an HTTP error status (and body, for content policy) to a failure kind."""
    retry_after = parse_retry_after(headers)
    kind: FailureKind
    if status == 429:
        kind = FailureKind.RATE_LIMITED
    elif status >= 500 or status in (408, 409):
        kind = FailureKind.SERVER_ERROR
    elif status in (401, 402, 403):
        kind = FailureKind.AUTH
    elif status == 400 and _mentions_content_policy(body):
        kind = FailureKind.CONTENT_POLICY
    else:
        kind = FailureKind.BAD_REQUEST
    return ProviderFailure(
        provider,
        kind,
        status=status,
        retry_after=retry_after,
        model=model,
        detail=_error_code(body),
    )


def _error_fields(body: object) -> dict[str, Any]:
    # OpenAI's SDK hands over the inner ``error`` object; Anthropic's and Groq's the
    # whole ``{"error": {...}}`` envelope.
    if isinstance(body, dict):
        inner = body.get("error")
        return inner if isinstance(inner, dict) else body
    return {}


def _error_code(body: object) -> str:
    fields = _error_fields(body)
    return str(fields.get("code") or fields.get("type") or "")


def _mentions_content_policy(body: object) -> bool:
    fields = _error_fields(body)
    tags = f"{fields.get('code') or ''} {fields.get('type') or ''}".lower()
    return any(marker in tags for marker in _CONTENT_POLICY_MARKERS)


def rejection_error(failure: ProviderFailure) -> ProviderRequestError:
    """The user-facing error for a fatal (no-failover) failure."""
    name = failure.provider
    status = f" (HTTP {failure.status})" if failure.status else ""
    if failure.kind is FailureKind.CONTENT_POLICY:
        message = (
            f"The AI provider {name} declined this request under its content policy. "
            "Try rephrasing the question."
        )
        reason = "content_policy"
    elif failure.kind is FailureKind.AUTH:
        message = (
            f"The AI provider {name} rejected Nexus's credentials{status}. "
            "An operator needs to fix the API key or account; your quota was not charged."
        )
        reason = "auth"
    else:
        message = (
            f"The AI provider {name} rejected the request as invalid{status}. "
            "An operator needs to check the model and LLM configuration; "
            "your quota was not charged."
        )
        reason = "bad_request"
    return ProviderRequestError(message, provider=name, reason=reason, detail=str(failure))
