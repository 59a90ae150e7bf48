"""The one exception tree of Nexus.

Every error Nexus raises on purpose derives from :class:`NexusError`. Errors a
user can act on carry a short ``user_message`` that adapters post verbatim into
the thread; everything else is reported as an internal failure.

::

    NexusError
    ├── ConfigurationError            settings missing or inconsistent (operator)
    ├── UserFacingError               has a user_message; the user can act on it
    │   ├── InputError                bad input: exit code 2 in the CLI
    │   │   ├── UnsupportedFileError      unknown or mislabelled type
    │   │   ├── FileTooLargeError         bytes, rows, columns, decompressed size
    │   │   ├── MalformedFileError        parses as its type but is broken
    │   │   └── QuestionNotUnderstoodError  the planner cannot map the question
    │   ├── AccessDeniedError         role lacks a permission
    │   │   └── AuthenticationError       no valid credential (admin API key): HTTP 401
    │   ├── QuotaExceededError        a limit is reached (says which, when it resets)
    │   ├── ProviderUnavailableError  every LLM provider failed (or none is configured)
    │   ├── ProviderRequestError      a provider refused the call: auth, bad request,
    │   │                             content policy (no failover; says who and why)
    │   └── SandboxError              generated code failed, timed out or was refused
    │       ├── SandboxTimeoutError
    │       └── CodeRejectedError
    └── InternalError                 a bug or an unreachable dependency
        ├── RenderError               the chart renderer failed
        ├── StorageError              database, Redis or blob store failed
        └── ProviderFailure           one LLM call failed, classified (core.llm.errors);
                                      the router turns it into one of the two above

Adapters catch ``UserFacingError`` and post ``user_message``; they catch anything
else, log it with the correlation id, and post a generic apology.
"""

from __future__ import annotations


class NexusError(Exception):
    """Base of every error Nexus raises on purpose."""


class ConfigurationError(NexusError):
    """Settings are missing or contradict each other."""


class UserFacingError(NexusError):
    """An error the user can act on; ``user_message`` is safe to post in chat.

    ``speaks_of_quota``: the message already says what the quota was charged, so a
    reply adds no refund note of its own.
    """

    speaks_of_quota = False

    def __init__(
        self, user_message: str, *, detail: str | None = None, speaks_of_quota: bool = False
    ) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message
        self.speaks_of_quota = speaks_of_quota or type(self).speaks_of_quota


class InputError(UserFacingError):
    """The input (file or question) cannot be used as given."""


class UnsupportedFileError(InputError):
    """The file type is unknown, or the content does not match its name."""


class FileTooLargeError(InputError):
    """A size limit (bytes, rows, columns, decompressed size) was exceeded."""


class MalformedFileError(InputError):
    """The file has the right type but cannot be parsed."""


class QuestionNotUnderstoodError(InputError):
    """The deterministic planner could not map the question to an analysis."""


class AccessDeniedError(UserFacingError):
    """The actor's role does not grant the permission needed."""


class AuthenticationError(AccessDeniedError):
    """No valid credential: missing, malformed, unknown, expired or revoked API key."""


class QuotaExceededError(UserFacingError):
    """A quota is exhausted; the message says which and when it resets.

    ``limit`` names the limit (``analyses_per_day``, ``llm_cost_usd_per_month``...)
    for metrics and audit; the user reads only ``user_message``.
    """

    speaks_of_quota = True

    def __init__(
        self, user_message: str, *, limit: str = "unknown", detail: str | None = None
    ) -> None:
        super().__init__(user_message, detail=detail)
        self.limit = limit


class ProviderUnavailableError(UserFacingError):
    """No LLM provider could answer."""


class ProviderRequestError(UserFacingError):
    """An LLM provider refused the request itself; failing over would not help.

    ``provider`` names who refused and ``reason`` is ``"auth"``, ``"bad_request"`` or
    ``"content_policy"``. Auth and bad-request need an operator (key, model, config);
    a content-policy refusal is the user's to rephrase.
    """

    def __init__(
        self, user_message: str, *, provider: str, reason: str, detail: str | None = None
    ) -> None:
        super().__init__(user_message, detail=detail)
        self.provider = provider
        self.reason = reason


class SandboxError(UserFacingError):
    """Generated code failed, timed out, or was refused before running."""


class SandboxTimeoutError(SandboxError):
    """Generated code hit its time limit and was killed."""


class CodeRejectedError(SandboxError):
    """Generated code was refused by the pre-run checks."""


class InternalError(NexusError):
    """A bug or an unreachable dependency; the user gets a generic apology."""


class RenderError(InternalError):
    """The chart renderer failed to produce an image."""


class StorageError(InternalError):
    """The database, Redis or blob store failed."""
