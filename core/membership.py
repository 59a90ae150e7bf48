"""Workspaces and members on first contact: provisioning, bootstrap owners, roles.

A workspace is created the first time anyone in it talks to Nexus. Its first owners
are the operator's bootstrap list (``NEXUS_BOOTSTRAP_OWNERS``, ``platform:user``
ids) and the user who installed the app (from the installation record). Everyone
else joins with the workspace's ``default_role`` (see :func:`core.access.newcomer_role`).

Workspace settings layout (JSON in ``workspaces.settings``)::

    {"default_role": "analyst", "quotas": {"analyses_per_day": 50, ...}}
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Role, newcomer_role
from core.events import Inbound
from core.quotas import QuotaPolicy
from core.storage.models import Workspace
from core.storage.repositories import audit, installations, members, workspaces

SYSTEM_ACTOR = None
"""Audit entries written by Nexus itself carry no actor."""


@dataclass(frozen=True)
class Member:
    """Who is asking, in which workspace, with which role."""

    workspace: Workspace
    user_id: str
    role: Role


def quota_policy(base: QuotaPolicy, workspace: Workspace) -> QuotaPolicy:
    """The workspace's limits: the operator's defaults with its own overrides."""
    overrides: Any = workspace.settings.get("quotas") or {}
    return base.with_overrides(overrides) if isinstance(overrides, dict) else base


async def _bootstrap(
    session: AsyncSession, workspace: Workspace, bootstrap_owners: Collection[str]
) -> None:
    prefix = f"{workspace.platform}:"
    owners = {entry.removeprefix(prefix) for entry in bootstrap_owners if entry.startswith(prefix)}
    installation = await installations.get(session, workspace.id)
    if installation is not None and installation.installed_by:
        owners.add(installation.installed_by)
    for user_id in sorted(owners):
        await members.set_role(session, workspace.id, user_id, Role.OWNER)
        await audit.append(
            session,
            workspace.id,
            action="role.bootstrap",
            actor_id=SYSTEM_ACTOR,
            target=user_id,
            detail={"role": Role.OWNER.value},
        )


async def identify(
    session: AsyncSession, inbound: Inbound, *, bootstrap_owners: Collection[str]
) -> Member:
    """The asker as a member of their workspace, provisioning both on first contact.

    Race-free: concurrent first messages create the workspace (and bootstrap its
    owners) once, and the member once.
    """
    # Read first: the common case writes nothing, so it takes no write lock (SQLite has
    # one writer; a lock held across a busy event loop's turns stalls every other).
    workspace = await workspaces.get(session, inbound.workspace)
    if workspace is None:
        workspace, created = await workspaces.get_or_create(
            session, inbound.workspace, platform=inbound.platform
        )
        if created:
            await audit.append(
                session, workspace.id, action="workspace.created", actor_id=inbound.actor_id
            )
            await _bootstrap(session, workspace, bootstrap_owners)
    role = await members.get_role(session, workspace.id, inbound.actor_id)
    if role is None:
        role, joined = await members.ensure(
            session, workspace.id, inbound.actor_id, newcomer_role(workspace.settings)
        )
        if joined:
            await audit.append(
                session,
                workspace.id,
                action="member.joined",
                actor_id=inbound.actor_id,
                target=inbound.actor_id,
                detail={"role": role.value},
            )
    return Member(workspace=workspace, user_id=inbound.actor_id, role=role)
