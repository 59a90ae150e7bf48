"""Admin API keys: minting, verifying, revoking.

A token reads ``nxk_<key id: 16 hex>_<secret: 43 url-safe chars>``. The id is the
lookup prefix (safe to show and log); only the secret's SHA-256 is stored. The secret
is 256 random bits, so a fast hash is enough (nothing to brute-force) and the
comparison is constant-time. The token is shown once, at creation, and never again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Role
from core.errors import AuthenticationError, InputError
from core.storage.models import ApiKey, utcnow
from core.storage.repositories import api_keys, audit, workspaces

PREFIX = "nxk_"
_TOKEN = re.compile(r"nxk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_DURATION = re.compile(r"(\d+)([dhm])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
NEVER = ("never", "0")


@dataclass(frozen=True)
class MintedKey:
    token: str
    """Shown once; Nexus keeps only its hash."""
    key: ApiKey


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_expiry(text: str) -> timedelta | None:
    """``90d``, ``12h``, ``30m``; ``never`` (or ``0``) for a key that does not expire."""
    text = text.strip().lower()
    if text in NEVER:
        return None
    match = _DURATION.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise InputError(f"Expiry {text!r} is not a duration like 90d, 12h or 30m (or never).")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


async def mint(
    session: AsyncSession,
    workspace_id: str,
    *,
    role: Role,
    expires_in: timedelta | None,
    actor: str,
    name: str | None = None,
    rate_limit_per_minute: int | None = None,
) -> MintedKey:
    if await workspaces.get(session, workspace_id) is None:
        raise InputError(
            f"No workspace {workspace_id!r}; `nexus admin workspaces list` shows them."
        )
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    now = utcnow()
    key = await api_keys.add(
        session,
        workspace_id,
        key_id=key_id,
        role=Role(role).value,
        secret_sha256=_digest(secret),
        name=name,
        expires_at=None if expires_in is None else now + expires_in,
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=actor,
    )
    await audit.append(
        session,
        workspace_id,
        action="api_key.created",
        actor_id=actor,
        target=key_id,
        detail={"role": key.role, "expires_at": _iso(key.expires_at), "name": name},
    )
    return MintedKey(f"{PREFIX}{key_id}_{secret}", key)


async def revoke(session: AsyncSession, workspace_id: str, key_id: str, *, actor: str) -> None:
    if not await api_keys.revoke(session, workspace_id, key_id):
        raise InputError(f"No live key {key_id!r} in {workspace_id!r}.")
    await audit.append(
        session, workspace_id, action="api_key.revoked", actor_id=actor, target=key_id
    )


async def authenticate(
    session: AsyncSession, authorization: str | None, *, now: datetime | None = None
) -> ApiKey:
    """The live key an ``Authorization: Bearer <token>`` header names, or
    :class:`AuthenticationError` saying why not (missing, unknown, expired, revoked)."""
    now = now or utcnow()
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _rejected("Send an API key: `Authorization: Bearer nxk_...`.", "missing")
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        raise _rejected("That is not a Nexus API key.", "malformed")
    key = await api_keys.find(session, match.group(1))
    # Compare even when the id is unknown, so timing does not reveal which ids exist.
    expected = key.secret_sha256 if key is not None else _digest("")
    if not hmac.compare_digest(expected, _digest(match.group(2))) or key is None:
        raise _rejected("Unknown API key.", "unknown")
    if key.revoked_at is not None:
        raise _rejected("This API key was revoked.", "revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise _rejected(
            "This API key has expired; create a new one with `nexus admin keys create`.",
            "expired",
        )
    return key


def _rejected(message: str, reason: str) -> AuthenticationError:
    return AuthenticationError(message, detail=f"api key rejected: {reason}")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
