"""What the admin API needs from the running process, passed in by the runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from core.blobs import BlobStore
from core.governance.purge import Purger
from core.governance.rate_limit import KeyRateLimiter
from core.storage.db import Database

BASE_PATH = "/admin/api/v1"


async def _nothing(_workspace: str) -> None:
    return None


@dataclass
class AdminDeps:
    database: Database
    blobs: BlobStore
    purger: Purger
    limiter: KeyRateLimiter
    default_retention_days: int
    default_chain: Sequence[str] = ()
    configured_providers: Sequence[str] = ()
    members_changed: Callable[[str], Awaitable[None]] = field(default=_nothing)
    """Called after a role changes, so web processes drop cached members at once."""
    base_path: str = BASE_PATH
