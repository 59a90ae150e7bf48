"""Admin API: the workspace, its governance settings, members, quotas, providers, keys."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from bot.admin_api import schemas as s
from bot.admin_api.framework import Call, Endpoint, NotFound
from core import admin
from core.access import Permission, Role, can_assign, least_role_for
from core.errors import AccessDeniedError
from core.governance import api_keys as keys
from core.governance.policy import SETTINGS_KEY, Governance, governance_of
from core.quotas import QuotaPolicy
from core.storage.models import Member, Workspace
from core.storage.repositories import api_keys, audit, members, workspaces

WS = "/workspaces/{workspace_id}"


async def _workspace(call: Call) -> Workspace:
    row = await workspaces.get(call.session, call.workspace_id)
    if row is None:
        raise NotFound("This key's workspace no longer exists.")
    return row


async def _summary(call: Call) -> s.WorkspaceOut:
    row = await _workspace(call)
    count = select(func.count()).where(Member.workspace_id == row.id)
    n = int((await call.session.execute(count)).scalar_one())
    return s.WorkspaceOut(
        id=row.id, platform=row.platform, name=row.name, created_at=row.created_at, members=n
    )


async def list_workspaces(call: Call) -> s.WorkspaceList:
    """A key sees exactly one workspace: its own."""
    return s.WorkspaceList(items=[await _summary(call)])


async def get_workspace(call: Call) -> s.WorkspaceOut:
    return await _summary(call)


def _governance_out(call: Call, policy: Governance) -> s.GovernanceOut:
    return s.GovernanceOut(
        retention=policy.retention,
        redaction=policy.redaction,
        default_retention_days=call.deps.default_retention_days,
    )


async def _save_governance(call: Call, policy: Governance, action: str) -> None:
    settings = policy.model_dump(mode="json", exclude_defaults=True)
    await workspaces.update_settings(call.session, call.workspace_id, {SETTINGS_KEY: settings})
    await audit.append(
        call.session, call.workspace_id, action=action, actor_id=call.actor, detail=settings
    )


async def get_governance(call: Call) -> s.GovernanceOut:
    return _governance_out(call, governance_of((await _workspace(call)).settings))


async def patch_governance(call: Call) -> s.GovernanceOut:
    patch = await call.body(s.GovernancePatch)
    policy = governance_of((await _workspace(call)).settings)
    changes = {k: v for k, v in patch if v is not None}  # null: leave as it is
    policy = policy.model_copy(update=changes)
    await _save_governance(call, policy, "governance.set")
    return _governance_out(call, policy)


async def list_members(call: Call) -> s.MemberList:
    await _workspace(call)
    rows = await members.list_all(call.session, call.workspace_id)
    items = [
        s.MemberOut(user_id=m.user_id, role=Role(m.role), created_at=m.created_at) for m in rows
    ]
    return s.MemberList(items=items)


async def _may_change(call: Call, user_id: str, new: Role | None) -> Role | None:
    current = await members.get_role(call.session, call.workspace_id, user_id)
    target = new if new is not None else (current or Role.VIEWER)
    if not can_assign(call.key.role, current, target):
        raise AccessDeniedError("Only an owner's key can make, change or remove an owner.")
    return current


async def put_member(call: Call) -> s.MemberOut:
    await _workspace(call)
    user_id, role = call.path("user_id"), (await call.body(s.RoleIn)).role
    await _may_change(call, user_id, role)
    await admin.grant_role(call.session, call.workspace_id, user_id, role, actor=call.actor)
    await call.deps.members_changed(call.workspace_id)
    rows = await members.list_all(call.session, call.workspace_id)
    member = next(m for m in rows if m.user_id == user_id)
    return s.MemberOut(user_id=user_id, role=role, created_at=member.created_at)


async def delete_member(call: Call) -> web.Response:
    user_id = call.path("user_id")
    if await _may_change(call, user_id, None) is None:
        raise NotFound(f"No member {user_id!r} in this workspace.")
    await members.remove(call.session, call.workspace_id, user_id)
    await audit.append(
        call.session, call.workspace_id, action="role.removed", actor_id=call.actor, target=user_id
    )
    await call.deps.members_changed(call.workspace_id)
    return web.Response(status=204)


def _quotas_out(overrides: dict[str, float]) -> s.QuotasOut:
    effective = QuotaPolicy().with_overrides(overrides).model_dump()
    return s.QuotasOut(overrides=overrides, effective=effective)


async def get_quotas(call: Call) -> s.QuotasOut:
    return _quotas_out(dict((await _workspace(call)).settings.get("quotas") or {}))


async def patch_quotas(call: Call) -> s.QuotasOut:
    patch = (await call.body(s.QuotasPatch)).model_dump(exclude_unset=True)
    await _workspace(call)
    await admin.set_quotas(call.session, call.workspace_id, patch, actor=call.actor)
    await call.deps.members_changed(call.workspace_id)  # quota policy is cached with members
    return _quotas_out(dict((await _workspace(call)).settings.get("quotas") or {}))


def _providers_out(call: Call, policy: Governance) -> s.ProvidersOut:
    return s.ProvidersOut(
        chain=policy.provider_chain,
        default_chain=list(call.deps.default_chain),
        configured=sorted(call.deps.configured_providers),
    )


async def get_providers(call: Call) -> s.ProvidersOut:
    return _providers_out(call, governance_of((await _workspace(call)).settings))


async def put_providers(call: Call) -> s.ProvidersOut:
    chain = (await call.body(s.ProvidersIn)).chain
    policy = governance_of((await _workspace(call)).settings)
    policy = policy.model_copy(update={"provider_chain": chain and list(dict.fromkeys(chain))})
    await _save_governance(call, policy, "providers.set")
    return _providers_out(call, policy)


async def list_keys(call: Call) -> s.KeyList:
    rows = await api_keys.list_all(call.session, call.workspace_id)
    return s.KeyList(items=[s.KeyOut.model_validate(row, from_attributes=True) for row in rows])


async def revoke_key(call: Call) -> web.Response:
    key_id = call.path("key_id")
    if await api_keys.get(call.session, call.workspace_id, key_id) is None:
        raise NotFound(f"No key {key_id!r} in this workspace.")
    await keys.revoke(call.session, call.workspace_id, key_id, actor=call.actor)
    return web.Response(status=204)


_VIEW = least_role_for(Permission.VIEW_USAGE)
_MEMBERS = least_role_for(Permission.MANAGE_MEMBERS)
_QUOTAS = least_role_for(Permission.MANAGE_QUOTAS)
_OWNER = least_role_for(Permission.MANAGE_PROVIDERS)

ENDPOINTS = [
    Endpoint("GET", "/workspaces", list_workspaces, "The key's workspace", _VIEW, "workspaces",
             response=s.WorkspaceList),
    Endpoint("GET", WS, get_workspace, "One workspace", _VIEW, "workspaces",
             response=s.WorkspaceOut),
    Endpoint("GET", f"{WS}/governance", get_governance, "Retention and redaction", _VIEW,
             "governance", response=s.GovernanceOut),
    Endpoint("PATCH", f"{WS}/governance", patch_governance, "Change retention or redaction",
             _OWNER, "governance", body=s.GovernancePatch, response=s.GovernanceOut),
    Endpoint("GET", f"{WS}/members", list_members, "Members and roles", _MEMBERS, "members",
             response=s.MemberList),
    Endpoint("PUT", f"{WS}/members/{{user_id}}", put_member, "Set a member's role", _MEMBERS,
             "members", body=s.RoleIn, response=s.MemberOut),
    Endpoint("DELETE", f"{WS}/members/{{user_id}}", delete_member, "Remove a member", _MEMBERS,
             "members"),
    Endpoint("GET", f"{WS}/quotas", get_quotas, "Quota overrides and effective limits", _VIEW,
             "quotas", response=s.QuotasOut),
    Endpoint("PATCH", f"{WS}/quotas", patch_quotas, "Change quota overrides", _QUOTAS, "quotas",
             body=s.QuotasPatch, response=s.QuotasOut),
    Endpoint("GET", f"{WS}/providers", get_providers, "LLM provider chain", _MEMBERS,
             "providers", response=s.ProvidersOut),
    Endpoint("PUT", f"{WS}/providers", put_providers, "Set the LLM provider chain", _OWNER,
             "providers", body=s.ProvidersIn, response=s.ProvidersOut),
    Endpoint("GET", f"{WS}/keys", list_keys, "API keys (no secrets)", _MEMBERS, "keys",
             response=s.KeyList),
    Endpoint("DELETE", f"{WS}/keys/{{key_id}}", revoke_key, "Revoke an API key", _MEMBERS,
             "keys"),
]  # fmt: skip
