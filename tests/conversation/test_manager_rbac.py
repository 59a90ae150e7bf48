"""Roles: denials come with a clear reply, an audit entry, and no job."""

from __future__ import annotations

from conversation_stack import Stack, StackFactory

from core.access import Role
from core.storage.repositories import audit, installations, jobs, members, workspaces


async def _set_role(stack: Stack, user: str, role: Role, workspace: str = "test:W") -> None:
    async with stack.database.session() as session:
        await members.set_role(session, workspace, user, role)


async def test_viewer_question_is_refused_with_how_to_fix_it(stack: Stack, tips_csv: bytes) -> None:
    await stack.say("help", actor="U1")  # provisions the workspace
    await _set_role(stack, "V1", Role.VIEWER)

    asked = await stack.say("average tip", actor="V1")
    assert asked.kind == "replied" and asked.reply is not None
    assert asked.reply.text == (
        "Your role in this workspace is viewer, which cannot ask questions. "
        "Ask a workspace owner or admin to run `role @you analyst`."
    )
    uploaded = await stack.upload("tips.csv", tips_csv, actor="V1")
    assert uploaded.reply is not None and "cannot upload files" in uploaded.reply.text

    async with stack.database.session() as session:
        assert await jobs.recent(session, "test:W") == []  # nothing was queued
        denied = await audit.recent(session, "test:W", action="access.denied")
    assert [(e.actor_id, e.detail["role"]) for e in denied] == [("V1", "viewer")] * 2
    assert await stack.redis.zcard(stack.settings.queue_name) == 0


async def test_role_changes_follow_the_policy(stack: Stack) -> None:
    await stack.say("help", actor="U1")
    await _set_role(stack, "OWN", Role.OWNER)
    await _set_role(stack, "ADM", Role.ADMIN)

    refused = await stack.say("role <@U2> admin", actor="U1")  # an analyst
    assert refused.reply is not None
    assert refused.reply.text.startswith("Your role in this workspace is analyst")

    promoted = await stack.say("role <@U2> admin", actor="ADM")
    assert promoted.reply is not None and promoted.reply.text == "<@U2> is now admin."
    owner_by_admin = await stack.say("role <@U2> owner", actor="ADM")
    assert owner_by_admin.reply is not None
    assert owner_by_admin.reply.text.startswith("Only a workspace owner can make someone an owner")
    demote_owner = await stack.say("role @OWN viewer", actor="ADM")
    assert demote_owner.reply is not None and "Only a workspace owner" in demote_owner.reply.text

    last = await stack.say("role @OWN analyst", actor="OWN")
    assert last.reply is not None and last.reply.text.startswith("That is the last owner")
    bogus = await stack.say("role @U2 king", actor="OWN")
    assert bogus.reply is not None and "king is not a role" in bogus.reply.text
    shown = await stack.say("role <@U2>", actor="U9")
    assert shown.reply is not None and shown.reply.text == "<@U2> is admin."

    async with stack.database.session() as session:
        assert await members.get_role(session, "test:W", "U2") is Role.ADMIN
        changes = await audit.recent(session, "test:W", action="role.set")
        denials = await audit.recent(session, "test:W", action="access.denied")
    assert [(c.actor_id, c.target, c.detail) for c in changes] == [
        ("ADM", "U2", {"from": None, "to": "admin"})
    ]
    assert len(denials) == 3


async def test_bootstrap_owners_and_installer_and_default_role(make_stack: StackFactory) -> None:
    stack = await make_stack(owners=["test:BOSS", "slack:OTHER"])
    async with stack.database.session() as session:
        await installations.save(session, "test:W", platform="test", data={}, installed_by="INST")
    await stack.say("help", actor="U1")
    async with stack.database.session() as session:
        assert await members.get_role(session, "test:W", "BOSS") is Role.OWNER
        assert await members.get_role(session, "test:W", "INST") is Role.OWNER
        assert await members.get_role(session, "test:W", "OTHER") is None  # other platform
        assert await members.get_role(session, "test:W", "U1") is Role.ANALYST
        boot = await audit.recent(session, "test:W", action="role.bootstrap")
        assert sorted(e.target or "" for e in boot) == ["BOSS", "INST"]
        await workspaces.update_settings(session, "test:W", {"default_role": "viewer"})
    newcomer = await stack.say("average tip", actor="NEW")
    assert newcomer.reply is not None
    assert "Your role in this workspace is viewer" in newcomer.reply.text


async def test_a_role_change_reaches_every_process_at_once(make_stack: StackFactory) -> None:
    web_a = await make_stack()
    web_b = await make_stack()  # another web process: same database and Redis
    await web_a.say("help", actor="U0")  # provisions the workspace
    await _set_role(web_a, "ADM", Role.ADMIN)
    assert (await web_b.say("how many rows", actor="U2")).kind == "enqueued"  # cached in B

    demoted = await web_a.say("role <@U2> viewer", actor="ADM")
    assert demoted.reply is not None and demoted.reply.text == "<@U2> is now viewer."
    refused = await web_b.say("how many rows", actor="U2")
    assert (
        refused.reply is not None and "Your role in this workspace is viewer" in refused.reply.text
    )
