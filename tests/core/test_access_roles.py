"""The role → permission table and the messages of refusals."""

from __future__ import annotations

from itertools import pairwise

import pytest

from core.access import (
    DEFAULT_NEWCOMER_ROLE,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    allows,
    can_assign,
    least_role_for,
    newcomer_role,
    require,
)
from core.errors import AccessDeniedError

P = Permission
EXPECTED = {
    Role.OWNER: set(Permission),
    Role.ADMIN: set(Permission) - {P.MANAGE_PROVIDERS},
    Role.ANALYST: {P.ASK, P.UPLOAD, P.RUN_CODE, P.VIEW_USAGE},
    Role.VIEWER: {P.VIEW_USAGE},
}


def test_role_permission_table() -> None:
    assert {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()} == EXPECTED
    for role in Role:
        for permission in Permission:
            assert allows(role, permission) == (permission in EXPECTED[role])


def test_roles_are_nested_by_trust() -> None:
    order = [Role.VIEWER, Role.ANALYST, Role.ADMIN, Role.OWNER]
    for lower, higher in pairwise(order):
        assert ROLE_PERMISSIONS[lower] < ROLE_PERMISSIONS[higher]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_require_raises_exactly_when_not_allowed(role: Role, permission: Permission) -> None:
    if permission in EXPECTED[role]:
        require(role, permission)
    else:
        with pytest.raises(AccessDeniedError):
            require(role, permission)


def test_viewer_asking_gets_the_documented_message() -> None:
    with pytest.raises(AccessDeniedError) as caught:
        require(Role.VIEWER, Permission.ASK)
    assert caught.value.user_message == (
        "Your role in this workspace is viewer, which cannot ask questions. "
        "Ask a workspace owner or admin to run `role @you analyst`."
    )


def test_owner_only_permission_names_owner() -> None:
    assert least_role_for(Permission.MANAGE_PROVIDERS) is Role.OWNER
    with pytest.raises(AccessDeniedError) as caught:
        require("admin", "manage_providers")
    assert "Ask a workspace owner to run `role @you owner`" in caught.value.user_message


def test_role_assignment_rules() -> None:
    assert can_assign(Role.OWNER, Role.ANALYST, Role.OWNER)
    assert can_assign(Role.OWNER, Role.OWNER, Role.VIEWER)
    assert can_assign(Role.ADMIN, Role.VIEWER, Role.ADMIN)
    assert can_assign(Role.ADMIN, None, Role.ANALYST)
    assert not can_assign(Role.ADMIN, Role.ANALYST, Role.OWNER)  # no self-made owners
    assert not can_assign(Role.ADMIN, Role.OWNER, Role.VIEWER)  # cannot demote an owner
    assert not can_assign(Role.ANALYST, Role.VIEWER, Role.ANALYST)
    assert not can_assign(Role.VIEWER, None, Role.VIEWER)


def test_newcomer_role_comes_from_workspace_settings() -> None:
    assert newcomer_role({}) is DEFAULT_NEWCOMER_ROLE
    assert newcomer_role({"default_role": "viewer"}) is Role.VIEWER
    assert newcomer_role({"default_role": "emperor"}) is DEFAULT_NEWCOMER_ROLE
