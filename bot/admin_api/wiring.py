"""Building the admin API's dependencies from settings (used by ``bot.runtime``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.admin_api.deps import AdminDeps
from core.blobs import BlobStore
from core.governance.purge import DocumentIndex, Purger
from core.governance.rate_limit import KeyRateLimiter
from core.llm.factory import KNOWN_PROVIDERS, default_chain
from core.settings import Settings
from core.storage.db import Database


def configured_providers(settings: Settings) -> list[str]:
    return [name for name in KNOWN_PROVIDERS if getattr(settings, f"{name}_api_key") is not None]


def admin_deps(
    settings: Settings,
    *,
    database: Database,
    blobs: BlobStore,
    index: DocumentIndex | None,
    members_changed: Callable[[str], Awaitable[None]],
) -> AdminDeps:
    available = configured_providers(settings)
    return AdminDeps(
        database=database,
        blobs=blobs,
        purger=Purger(database=database, blobs=blobs, index=index),
        limiter=KeyRateLimiter(
            settings.redis_url,
            prefix=settings.redis_prefix,
            default_per_minute=settings.admin_api_rate_limit,
        ),
        default_retention_days=settings.retention_days,
        default_chain=default_chain(settings, set(available)),
        configured_providers=available,
        members_changed=members_changed,
    )
