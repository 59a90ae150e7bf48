"""Multi-workspace install through bolt's OAuth flow, installations in the database
(SQLite and PostgreSQL), and the isolation of two installed workspaces."""

from __future__ import annotations

from typing import Any

import pytest
import slack_payloads as payloads
from cryptography.fernet import Fernet
from fake_slack import FakeSlack
from slack_harness import install, slack_settings
from sqlalchemy import text

from core.access import Role
from core.errors import ConfigurationError
from core.events import ConversationRef, Reply
from core.storage.db import Database
from core.storage.repositories import installations, members, workspaces

# slack-sdk's own use of aiohttp.BasicAuth for oauth.v2.access, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
async def database(database_url: str) -> Any:
    db = Database(database_url)
    await db.migrate()
    yield db
    await db.dispose()


async def test_two_workspaces_installed_through_oauth_stay_isolated(
    harness_factory: Any, fake_slack: FakeSlack, database: Database
) -> None:
    t1 = fake_slack.add_team("T1", channels=("CA",))
    t2 = fake_slack.add_team("T2", channels=("CB",))
    settings = slack_settings(
        fake_slack,
        slack_client_id=fake_slack.client_id,
        slack_client_secret=fake_slack.client_secret,
    )
    h = await harness_factory(team=t1, settings=settings, database=database)
    assert (await install(h.session, h.url, h.fake, t1, "UINSTALL1"))[0] == 200
    assert (await install(h.session, h.url, h.fake, t2, "UINSTALL2"))[0] == 200
    async with database.session() as session:
        row1 = await installations.get(session, "slack:T1")
        row2 = await installations.get(session, "slack:T2")
    assert row1 is not None and row2 is not None
    assert (row1.installed_by, row1.data["bot_token"]) == ("UINSTALL1", t1.bot_token)
    assert (row2.installed_by, row2.data["bot_token"]) == ("UINSTALL2", t2.bot_token)

    # Each team's events are authorized with that team's token and normalized to it.
    for team, channel in ((t1, "CA"), (t2, "CB")):
        event = payloads.app_mention(
            team.id, team.bot_user_id, channel=channel, ts="1.1", text="hi"
        )
        assert (await h.post_event(event)).status == 200
    await h.adapter.listeners.drain()
    assert [(i.workspace, i.channel_id) for i in h.intake.inbounds] == [
        ("slack:T1", "CA"),
        ("slack:T2", "CB"),
    ]
    assert {c.token for c in fake_slack.calls_to("auth.test")} == {t1.bot_token, t2.bot_token}
    # The "working" reaction went to each team with its own token (the fake refuses
    # a token on another team's channel).
    assert fake_slack.reactions == {("CA", "1.1", "eyes"), ("CB", "1.1", "eyes")}

    # Replies from a worker use the installation of the reply's workspace.
    conv = ConversationRef(platform="slack", workspace_id="T2", channel_id="CB", thread_id="1.1")
    await h.adapter.io.sender.send(Reply.from_text(conv, "for T2", idempotency_key="k2"))
    (posted,) = fake_slack.thread("CB", "1.1")
    assert posted["team"] == "T2"

    # A team that never installed Nexus gets nothing through.
    stranger = payloads.app_mention("T9", "UBOT9", channel="CZ", ts="2.2", text="hi")
    await h.post_event(stranger)
    assert len(h.intake.inbounds) == 2

    # Uninstalling T2 deletes its installation and nothing else.
    uninstall = payloads.envelope(
        "T2", t2.bot_user_id, {"type": "app_uninstalled", "event_ts": "3.3"}
    )
    assert (await h.post_event(uninstall)).status == 200
    async with database.session() as session:
        assert await installations.get(session, "slack:T2") is None
        assert await installations.get(session, "slack:T1") is not None
    with pytest.raises(ConfigurationError):
        await h.adapter.io.sender.send(Reply.from_text(conv, "gone", idempotency_key="k3"))


async def test_a_state_is_good_once_and_a_forged_one_fails(
    harness_factory: Any, fake_slack: FakeSlack, database: Database
) -> None:
    t1 = fake_slack.add_team("T1", channels=("CA",))
    settings = slack_settings(
        fake_slack,
        slack_client_id=fake_slack.client_id,
        slack_client_secret=fake_slack.client_secret,
    )
    h = await harness_factory(team=t1, settings=settings, database=database)
    code = fake_slack.issue_oauth_code(t1, "UEVE")
    forged = f"{h.url}/slack/oauth_redirect?code={code}&state=made-up"
    async with h.session.get(forged, headers={"Cookie": "slack-app-oauth-state=made-up"}) as resp:
        assert resp.status == 401
    async with database.session() as session:
        assert await installations.get(session, "slack:T1") is None
    status, state, cookies = await install(h.session, h.url, h.fake, t1, "UALICE")
    assert status == 200
    # Replaying the same state (a captured callback URL) no longer works.
    replay = (
        f"{h.url}/slack/oauth_redirect?code={fake_slack.issue_oauth_code(t1, 'UEVE')}&state={state}"
    )
    async with h.session.get(replay, headers={"Cookie": cookies}) as resp:
        assert resp.status == 401
    async with database.session() as session:
        row = await installations.get(session, "slack:T1")
    assert row is not None and row.installed_by == "UALICE"


async def test_reinstall_into_a_known_workspace_makes_the_installer_owner(
    harness_factory: Any, fake_slack: FakeSlack, database: Database
) -> None:
    t1 = fake_slack.add_team("T1", channels=("CA",))
    settings = slack_settings(
        fake_slack,
        slack_client_id=fake_slack.client_id,
        slack_client_secret=fake_slack.client_secret,
    )
    h = await harness_factory(team=t1, settings=settings, database=database)
    async with database.session() as session:
        await workspaces.get_or_create(session, "slack:T1", platform="slack")
    assert (await install(h.session, h.url, h.fake, t1, "UADMIN"))[0] == 200
    async with database.session() as session:
        assert await members.get_role(session, "slack:T1", "UADMIN") is Role.OWNER


async def test_bot_tokens_are_encrypted_at_rest_and_still_authorize_events(
    harness_factory: Any, fake_slack: FakeSlack, database: Database
) -> None:
    t1 = fake_slack.add_team("T1", channels=("CA",))
    settings = slack_settings(
        fake_slack,
        slack_client_id=fake_slack.client_id,
        slack_client_secret=fake_slack.client_secret,
        encryption_keys=Fernet.generate_key().decode(),
    )
    h = await harness_factory(team=t1, settings=settings, database=database)
    assert (await install(h.session, h.url, h.fake, t1, "UINSTALL1"))[0] == 200
    async with database.session() as session:
        stored = (
            await session.execute(
                text("SELECT data FROM installations WHERE workspace_id = 'slack:T1'")
            )
        ).scalar_one()
    assert t1.bot_token not in str(stored)  # what the database holds is ciphertext

    event = payloads.app_mention(t1.id, t1.bot_user_id, channel="CA", ts="1.1", text="hi")
    assert (await h.post_event(event)).status == 200
    await h.adapter.listeners.drain()
    assert [i.workspace for i in h.intake.inbounds] == ["slack:T1"]
    assert {c.token for c in fake_slack.calls_to("auth.test")} == {t1.bot_token}
