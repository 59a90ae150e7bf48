"""Every way the admin API refuses a request: 401, 403, 429 — and that each use is audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from governance.governance_support import AdminApi, add_workspace, key_id, mint

from bot.admin_api import ENDPOINTS
from bot.admin_api.framework import role_includes
from core.access import Role
from core.governance import api_keys
from core.storage.models import utcnow
from core.storage.repositories import api_keys as key_rows
from core.storage.repositories import audit

ALL = [(e.method, e.path) for e in ENDPOINTS]


def concrete(path: str, workspace: str) -> str:
    path = path.replace("{workspace_id}", workspace)
    return re.sub(r"{\w+}", "x1", path)


@pytest.mark.parametrize(("method", "path"), ALL)
async def test_missing_key_is_401_on_every_endpoint(api: AdminApi, method: str, path: str) -> None:
    workspace = await add_workspace(api.deps.database)
    status, body = await api.call(method, concrete(path, workspace), None)
    assert status == 401
    assert "Bearer" in body["error"]


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-nexus-key", "Token nxk_" + "0" * 16],
)
async def test_malformed_credentials_are_401(api: AdminApi, authorization: str) -> None:
    workspace = await add_workspace(api.deps.database)
    url = f"{api.url}/admin/api/v1/workspaces/{workspace}"
    async with api.http.get(url, headers={"Authorization": authorization}) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_unknown_id_and_wrong_secret_are_401(api: AdminApi) -> None:
    workspace = await add_workspace(api.deps.database)
    token = await mint(api.deps.database, workspace)
    unknown = "nxk_" + "f" * 16 + token[20:]
    wrong_secret = token[:21] + ("A" if token[21] != "A" else "B") + token[22:]
    for bad in (unknown, wrong_secret):
        status, body = await api.call("GET", f"/workspaces/{workspace}", bad)
        assert (status, body["error"]) == (401, "Unknown API key.")
    status, _ = await api.call("GET", f"/workspaces/{workspace}", token)
    assert status == 200


async def test_expired_key_is_401(api: AdminApi) -> None:
    db = api.deps.database
    workspace = await add_workspace(db)
    token = await mint(db, workspace, expires_in=timedelta(days=1))
    assert (await api.call("GET", f"/workspaces/{workspace}", token))[0] == 200
    # The clock passes the expiry: the stored expiry is moved into the past.
    async with db.session() as session:
        row = await key_rows.get(session, workspace, key_id(token))
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    status, body = await api.call("GET", f"/workspaces/{workspace}", token)
    assert status == 401 and "expired" in body["error"]


async def test_key_expiry_is_checked_against_the_clock(api: AdminApi) -> None:
    db = api.deps.database
    workspace = await add_workspace(db)
    token = await mint(db, workspace, expires_in=timedelta(hours=2))
    async with db.session() as session:
        key = await api_keys.authenticate(session, f"Bearer {token}")
        assert key.expires_at is not None
        with pytest.raises(Exception, match="expired"):
            await api_keys.authenticate(session, f"Bearer {token}", now=key.expires_at)
        later = key.expires_at - timedelta(seconds=1)
        assert (await api_keys.authenticate(session, f"Bearer {token}", now=later)).id == key.id


async def test_revoked_key_is_401_at_once(api: AdminApi) -> None:
    db = api.deps.database
    workspace = await add_workspace(db)
    admin_token = await mint(db, workspace, Role.ADMIN)
    victim = await mint(db, workspace, Role.VIEWER)
    assert (await api.call("GET", f"/workspaces/{workspace}", victim))[0] == 200
    status, _ = await api.call(
        "DELETE", f"/workspaces/{workspace}/keys/{key_id(victim)}", admin_token
    )
    assert status == 204
    status, body = await api.call("GET", f"/workspaces/{workspace}", victim)
    assert status == 401 and "revoked" in body["error"]
    async with db.session() as session:
        revoked = await audit.recent(session, workspace, action="api_key.revoked")
    assert [entry.target for entry in revoked] == [key_id(victim)]


@pytest.mark.parametrize(("method", "path"), [a for a in ALL if "{workspace_id}" in a[1]])
async def test_other_workspace_is_403_on_every_scoped_endpoint(
    api: AdminApi, method: str, path: str
) -> None:
    db = api.deps.database
    mine, theirs = await add_workspace(db), await add_workspace(db)
    token = await mint(db, mine, Role.OWNER)
    status, body = await api.call(method, concrete(path, theirs), token, json={})
    assert status == 403 and "another workspace" in body["error"]
    async with db.session() as session:
        denied = await audit.recent(session, mine, action="api.denied")
        leaked = await audit.recent(session, theirs)
    assert denied and denied[0].detail["status"] == 403
    assert leaked == []  # nothing about the attempt lands in the other workspace


LOW_ROLE_CASES = [
    (e.method, e.path, role) for e in ENDPOINTS for role in Role if not role_includes(role, e.role)
]


@pytest.mark.parametrize(("method", "path", "role"), LOW_ROLE_CASES)
async def test_role_below_the_endpoint_is_403(
    api: AdminApi, method: str, path: str, role: Role
) -> None:
    db = api.deps.database
    workspace = await add_workspace(db)
    token = await mint(db, workspace, role)
    status, body = await api.call(method, concrete(path, workspace), token, json={})
    assert status == 403 and f"role ({role.value})" in body["error"]


def test_every_role_is_refused_somewhere_but_owner() -> None:
    refused = {role for _, _, role in LOW_ROLE_CASES}
    assert refused == {Role.ADMIN, Role.ANALYST, Role.VIEWER}


async def test_admin_key_cannot_make_an_owner(api: AdminApi) -> None:
    db = api.deps.database
    workspace = await add_workspace(db)
    token = await mint(db, workspace, Role.ADMIN)
    status, body = await api.call(
        "PUT", f"/workspaces/{workspace}/members/U9", token, json={"role": "owner"}
    )
    assert status == 403 and "owner" in body["error"]


async def test_rate_limit_per_key_is_429_with_retry_after(api: AdminApi) -> None:
    db = api.deps.database
    workspace = await add_workspace(db)
    limited = await mint(db, workspace, Role.VIEWER, rate_limit=3)
    other = await mint(db, workspace, Role.VIEWER, rate_limit=3)
    statuses = [(await api.call("GET", f"/workspaces/{workspace}", limited))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    url = f"{api.url}/admin/api/v1/workspaces/{workspace}"
    async with api.http.get(url, headers={"Authorization": f"Bearer {limited}"}) as response:
        assert response.status == 429 and 0 < int(response.headers["Retry-After"]) <= 61
    assert (await api.call("GET", f"/workspaces/{workspace}", other))[0] == 200  # per key


async def test_every_use_is_audited_and_last_use_recorded(api: AdminApi) -> None:
    db = api.deps.database
    workspace = await add_workspace(db)
    token = await mint(db, workspace, Role.VIEWER)
    before = utcnow()
    await api.call("GET", f"/workspaces/{workspace}", token)
    await api.call("GET", f"/workspaces/{workspace}/audit", token)  # viewer: 403
    async with db.session() as session:
        entries = await audit.recent(session, workspace)
        row = await key_rows.get(session, workspace, key_id(token))
    uses = [
        (e.action, e.target, e.detail["status"]) for e in entries if e.action.startswith("api.")
    ]
    assert uses == [
        ("api.denied", "GET /admin/api/v1/workspaces/{workspace_id}/audit", 403),
        ("api.request", "GET /admin/api/v1/workspaces/{workspace_id}", 200),
    ]
    assert all(
        e.actor_id == f"apikey:{key_id(token)}" for e in entries if e.action.startswith("api.")
    )
    assert row is not None and row.last_used_at is not None and row.last_used_at >= before
