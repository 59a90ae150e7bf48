"""Roles and permissions inside one workspace.

Four roles, ordered by trust. The table below is the whole policy; code asks
:func:`require` (or :func:`allows`) and never compares roles by name.

========  ===  ======  ====  =======  ======  =========  =====  =====
role      ask  upload  code  members  quotas  providers  usage  audit
========  ===  ======  ====  =======  ======  =========  =====  =====
owner      x     x      x       x       x         x        x      x
admin      x     x      x       x       x                  x      x
analyst    x     x      x                                  x
viewer                                                     x
========  ===  ======  ====  =======  ======  =========  =====  =====

(code = run_code; members, quotas, providers = manage_*; usage, audit = view_*.)

Provider keys spend the owner's money, so only owners manage providers. Only an owner
can make or unmake an owner (:func:`can_assign`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from core.errors import AccessDeniedError


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Permission(StrEnum):
    ASK = "ask"
    UPLOAD = "upload"
    RUN_CODE = "run_code"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_QUOTAS = "manage_quotas"
    MANAGE_PROVIDERS = "manage_providers"
    VIEW_USAGE = "view_usage"
    VIEW_AUDIT = "view_audit"


_ANALYST = frozenset(
    {Permission.ASK, Permission.UPLOAD, Permission.RUN_CODE, Permission.VIEW_USAGE}
)
_ADMIN = _ANALYST | {Permission.MANAGE_MEMBERS, Permission.MANAGE_QUOTAS, Permission.VIEW_AUDIT}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: _ADMIN,
    Role.ANALYST: _ANALYST,
    Role.VIEWER: frozenset({Permission.VIEW_USAGE}),
}

DEFAULT_NEWCOMER_ROLE = Role.ANALYST
"""Role of someone seen for the first time, unless the workspace's settings say otherwise."""

# Most trusted last, so the first role granting a permission is the least one needed.
_BY_TRUST = (Role.VIEWER, Role.ANALYST, Role.ADMIN, Role.OWNER)

_ACTIONS: Mapping[Permission, str] = {
    Permission.ASK: "ask questions",
    Permission.UPLOAD: "upload files",
    Permission.RUN_CODE: "run generated code",
    Permission.MANAGE_MEMBERS: "manage members",
    Permission.MANAGE_QUOTAS: "change quotas",
    Permission.MANAGE_PROVIDERS: "configure LLM providers",
    Permission.VIEW_USAGE: "view usage",
    Permission.VIEW_AUDIT: "view the audit log",
}


def allows(role: Role | str, permission: Permission | str) -> bool:
    """Whether ``role`` grants ``permission``."""
    return Permission(permission) in ROLE_PERMISSIONS[Role(role)]


def least_role_for(permission: Permission | str) -> Role:
    """The least trusted role that grants ``permission``."""
    perm = Permission(permission)
    return next(role for role in _BY_TRUST if perm in ROLE_PERMISSIONS[role])


def require(role: Role | str, permission: Permission | str) -> None:
    """Raise :class:`AccessDeniedError` with a message saying how to get access."""
    current, perm = Role(role), Permission(permission)
    if perm in ROLE_PERMISSIONS[current]:
        return
    needed = least_role_for(perm)
    granters = "a workspace owner" if needed is Role.OWNER else "a workspace owner or admin"
    raise AccessDeniedError(
        f"Your role in this workspace is {current}, which cannot {_ACTIONS[perm]}. "
        f"Ask {granters} to run `role @you {needed}`.",
        detail=f"role {current} lacks permission {perm}",
    )


def can_assign(actor: Role | str, target_current: Role | str | None, new: Role | str) -> bool:
    """Whether ``actor`` may change someone from ``target_current`` (None: newcomer) to ``new``.

    Managing members is not enough to touch owners: an admin could otherwise promote
    themselves or demote the owner.
    """
    actor_role = Role(actor)
    if not allows(actor_role, Permission.MANAGE_MEMBERS):
        return False
    if actor_role is Role.OWNER:
        return True
    touches_owner = Role(new) is Role.OWNER or (
        target_current is not None and Role(target_current) is Role.OWNER
    )
    return not touches_owner


def newcomer_role(workspace_settings: Mapping[str, object]) -> Role:
    """The role given on first contact: the workspace's ``default_role`` or the default."""
    configured = workspace_settings.get("default_role")
    valid = {role.value for role in Role}
    return (
        Role(configured)
        if isinstance(configured, str) and configured in valid
        else (DEFAULT_NEWCOMER_ROLE)
    )
