"""The one place PII redaction happens: a wrapper around each LLM provider.

Every external LLM call goes through a provider's ``complete``; wrapping the providers
the router holds (``build_router(..., wrap_provider=...)``) covers every prompt the
agents build — the question, sample rows, column values, earlier results — whichever
agent made it. The router's cache and accounting are untouched: they see the request
as built, and only what crosses the network is redacted.

A workspace with redaction off, or a provider on its ``raw_data_providers`` allow-list,
gets the request unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from cachetools import TTLCache

from core.governance.policy import Governance, governance_of
from core.governance.redaction import Redactor
from core.llm.providers.base import Provider
from core.llm.types import ChatMessage, ChatRequest, ChatResponse
from core.logging import get_logger
from core.storage.db import Database
from core.storage.repositories import workspaces

log = get_logger("governance.redaction")

# The data-block fences (core/agents/prompts.py) carry a hex tag; keep them verbatim.
_FENCE = re.compile(r"^<<(?:END )?DATA [0-9a-f]+>>")


class GovernanceSource(Protocol):
    async def governance(self, workspace: str) -> Governance: ...


class DatabaseGovernance:
    """Reads a workspace's governance settings, cached for ``ttl_seconds`` per process."""

    def __init__(self, database: Database, *, ttl_seconds: float = 30.0) -> None:
        self._db = database
        self._cache: TTLCache[str, Governance] = TTLCache(maxsize=4096, ttl=ttl_seconds)

    async def governance(self, workspace: str) -> Governance:
        cached = self._cache.get(workspace)
        if cached is not None:
            return cached
        async with self._db.session() as session:
            row = await workspaces.get(session, workspace)
        policy = governance_of(row.settings if row is not None else {})
        self._cache[workspace] = policy
        return policy


def redact_request(request: ChatRequest, redactor: Redactor) -> tuple[ChatRequest, int]:
    """``request`` with every message's content redacted, and how many matches."""
    total = 0
    messages: list[ChatMessage] = []
    for message in request.messages:
        lines = []
        for line in message.content.split("\n"):
            if _FENCE.match(line):
                lines.append(line)
                continue
            redacted = redactor.redact(line)
            total += sum(redacted.found.values())
            lines.append(redacted.text)
        messages.append(message.model_copy(update={"content": "\n".join(lines)}))
    return request.model_copy(update={"messages": messages}), total


class RedactingProvider:
    """A :class:`Provider` that redacts requests per the workspace's policy."""

    def __init__(self, inner: Provider, *, policies: GovernanceSource, redactor: Redactor) -> None:
        self._inner = inner
        self._policies = policies
        self._redactor = redactor

    @property
    def name(self) -> str:
        return self._inner.name

    def model_for(self, request: ChatRequest) -> str:
        return self._inner.model_for(request)

    async def complete(
        self, request: ChatRequest, *, time_limit: float | None = None
    ) -> ChatResponse:
        policy = (await self._policies.governance(request.workspace)).redaction
        if policy.enabled and self.name not in policy.raw_data_providers:
            request, count = redact_request(request, self._redactor)
            if count:
                log.info(
                    "governance.redacted", workspace=request.workspace, provider=self.name, n=count
                )
        return await self._inner.complete(request, time_limit=time_limit)

    async def aclose(self) -> None:
        await self._inner.aclose()


def redacting(policies: GovernanceSource, redactor: Redactor) -> Callable[[Provider], Provider]:
    """The ``wrap_provider`` argument of :func:`core.llm.factory.build_router`."""

    def wrap(provider: Provider) -> Provider:
        return RedactingProvider(provider, policies=policies, redactor=redactor)

    return wrap
