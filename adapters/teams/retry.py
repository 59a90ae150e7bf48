"""Calling the Bot Connector with the retries Microsoft asks for, and no others.

Teams throttles per bot and thread (7 messages/s, 60 per 30 s) and answers 429; the
docs also name 412, 502 and 504 as worth another try, with exponential backoff. The
SDK's connector client does not retry at all, so every post goes through
:meth:`ConnectorRetry.call`. ``Retry-After`` wins over our own backoff when sent.

Nothing else is retried: ``POST …/activities`` is not idempotent, and a 500 or a
dropped connection may already have delivered the message. Those become an
:class:`~core.errors.InternalError` (not transient for the pipeline, so the job does
not re-post the whole reply either); the user already has what got through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from msrest.exceptions import ClientRequestError, HttpOperationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from core.errors import InternalError
from core.logging import get_logger

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({412, 429, 502, 504})

_log = get_logger("adapters.teams.retry")


def connector_status(error: BaseException | None) -> int | None:
    """The HTTP status of a connector failure (aiohttp or requests response)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def _retry_after(error: BaseException | None) -> float | None:
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare here; fall back to our own backoff


def _retryable(error: BaseException) -> bool:
    return isinstance(error, HttpOperationError) and connector_status(error) in RETRYABLE_STATUSES


class ConnectorRetry:
    """Backoff policy for connector calls (attempts include the first call)."""

    def __init__(
        self, *, attempts: int = 5, initial_seconds: float = 1.0, max_seconds: float = 30.0
    ) -> None:
        self._attempts = attempts
        self._max = max_seconds
        self._backoff = wait_random_exponential(multiplier=initial_seconds, max=max_seconds)

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        told = _retry_after(error)
        return min(told, self._max) if told is not None else self._backoff(state)

    async def call(self, operation: Callable[[], Awaitable[T]], *, what: str) -> T:
        """Run ``operation``; retry throttling; anything else is reported once."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            before_sleep=lambda s: _log.warning(
                "teams.connector.retry",
                what=what,
                attempt=s.attempt_number,
                status=connector_status(s.outcome.exception()) if s.outcome else None,
            ),
            reraise=True,
        )
        try:
            return await retrying(operation)
        except HttpOperationError as exc:
            status = connector_status(exc)
            raise InternalError(f"Teams connector answered HTTP {status} to {what}") from exc
        except ClientRequestError as exc:
            raise InternalError(f"Teams connector unreachable for {what}: {exc}") from exc
