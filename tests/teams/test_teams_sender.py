"""The proactive sender and the fetcher on the real CloudAdapter against the fake
connector: what is retried (429/412/502/504), what is not, and where tokens go."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import teams_activities as activities
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from fake_bot_framework import BOT_TOKEN, FakeChannelAuth, FakeConnector, StaticTokenCredentials
from sqlalchemy import event
from teams_harness import teams_settings

from adapters.teams.auth import build_auth
from adapters.teams.convert import activity_to_message
from adapters.teams.fetch import TeamsFetcher
from adapters.teams.io import TeamsSender
from adapters.teams.references import ReferenceStore
from adapters.teams.retry import ConnectorRetry
from core.errors import FileTooLargeError, InputError, InternalError, StorageError
from core.events import ConversationRef, Reply
from core.storage.db import Database


@dataclass
class Parts:
    sender: TeamsSender
    fetcher: TeamsFetcher
    references: ReferenceStore
    connector: FakeConnector
    database: Database


@pytest.fixture
async def parts(
    channel_auth: FakeChannelAuth, connector: FakeConnector, tmp_path: Path, redis_url: str
) -> AsyncIterator[Parts]:
    settings = teams_settings(channel_auth, redis_url=redis_url, prefix="unused", tmp_path=tmp_path)
    auth = build_auth(settings, credentials=StaticTokenCredentials())
    database = Database(settings.resolved_database_url)
    await database.migrate()
    references = ReferenceStore(database)
    retry = ConnectorRetry(attempts=3, initial_seconds=0.01, max_seconds=1.0)
    sender = TeamsSender(
        CloudAdapter(auth.authentication), app_id=auth.app_id, references=references, retry=retry
    )
    fetcher = TeamsFetcher(
        app_id=auth.app_id,
        credentials=auth.credentials,
        oauth_scope=auth.oauth_scope,
        login_url=auth.login_url,
        max_bytes=1000,
    )
    yield Parts(sender, fetcher, references, connector, database)
    await fetcher.aclose()
    await database.dispose()


async def conversation_with_reference(parts: Parts) -> ConversationRef:
    """A channel thread whose reference was stored, as the turn does."""
    raw = activities.message(parts.connector.service_url, kind="channel", mention=True, text="q")
    inbound = activity_to_message(raw).inbound
    assert inbound is not None
    reference = TurnContext.get_conversation_reference(Activity().deserialize(raw))
    await parts.references.save(inbound.workspace_id, reference)
    return inbound.conversation()


async def test_a_reply_goes_to_the_stored_thread_with_the_bot_token(parts: Parts) -> None:
    where = await conversation_with_reference(parts)
    await parts.sender.send(Reply.from_text(where, "42 rows.", idempotency_key="k1"))
    (posted,) = parts.connector.posted
    assert posted.conversation_id == where.data["conversation_id"]
    assert posted.reply_to == where.data["message_id"]
    assert posted.body["text"] == "42 rows." and posted.authorization == f"Bearer {BOT_TOKEN}"


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_throttling_and_gateway_errors_are_retried(parts: Parts, status: int) -> None:
    where = await conversation_with_reference(parts)
    parts.connector.failures += [(status, {}), (status, {})]
    await parts.sender.send(Reply.from_text(where, "done", idempotency_key="k"))
    assert parts.connector.message_attempts == 3
    assert [p.body["text"] for p in parts.connector.messages()] == ["done"]


async def test_retry_after_is_honoured(parts: Parts) -> None:
    where = await conversation_with_reference(parts)
    parts.connector.failures.append((429, {"Retry-After": "0.4"}))
    started = time.monotonic()
    await parts.sender.send(Reply.from_text(where, "done", idempotency_key="k"))
    assert time.monotonic() - started >= 0.4
    assert parts.connector.message_attempts == 2


@pytest.mark.parametrize("status", [500, 400, 403, 413])
async def test_other_failures_are_reported_once_not_retried(parts: Parts, status: int) -> None:
    where = await conversation_with_reference(parts)
    parts.connector.failures.append((status, {}))
    with pytest.raises(InternalError, match=str(status)):
        await parts.sender.send(Reply.from_text(where, "maybe delivered", idempotency_key="k"))
    assert parts.connector.message_attempts == 1


async def test_endless_throttling_gives_up_after_the_last_attempt(parts: Parts) -> None:
    where = await conversation_with_reference(parts)
    parts.connector.failures += [(429, {})] * 5
    with pytest.raises(InternalError, match="429"):
        await parts.sender.send(Reply.from_text(where, "x", idempotency_key="k"))
    assert parts.connector.message_attempts == 3


async def test_a_conversation_without_a_stored_reference_is_a_clear_error(parts: Parts) -> None:
    where = ConversationRef(
        platform="teams", workspace_id="T", channel_id="a:1", data={"conversation_id": "a:1"}
    )
    with pytest.raises(StorageError, match="no stored Teams conversation reference"):
        await parts.sender.send(Reply.from_text(where, "x", idempotency_key="k"))
    assert parts.connector.posted == []


async def test_fetcher_sends_the_bot_token_only_to_teams_hosts(parts: Parts) -> None:
    where = await conversation_with_reference(parts)
    raw = activities.message(
        parts.connector.service_url,
        attachments=[
            activities.inline_image(parts.connector.image_url(b"\x89PNG tiny")),
            activities.inline_image("http://localhost:9/steal"),  # not the service host
        ],
    )
    inbound = activity_to_message(raw).inbound
    assert inbound is not None
    ours, foreign = inbound.files
    assert await parts.fetcher.fetch(ours, where) == b"\x89PNG tiny"
    with pytest.raises(InputError):
        await parts.fetcher.fetch(foreign, where)
    assert parts.connector.downloads[-1][1] == f"Bearer {BOT_TOKEN}"
    assert len(parts.connector.downloads) == 1


async def test_fetcher_refuses_expired_links_and_oversized_files(parts: Parts) -> None:
    where = await conversation_with_reference(parts)
    big = parts.connector.file_url("big.csv", b"a,b\n" + b"1,2\n" * 500)
    gone = f"{parts.connector.service_url}files/deleted.csv"
    raw = activities.message(
        parts.connector.service_url,
        attachments=[
            activities.file_attachment("big.csv", big),
            activities.file_attachment("deleted.csv", gone),
        ],
    )
    inbound = activity_to_message(raw).inbound
    assert inbound is not None
    too_big, expired = inbound.files
    with pytest.raises(FileTooLargeError):
        await parts.fetcher.fetch(too_big, where)
    with pytest.raises(InputError, match="Send the file to Nexus again"):
        await parts.fetcher.fetch(expired, where)


async def test_a_reference_is_written_once_until_its_routing_changes(parts: Parts) -> None:
    raw = activities.message(parts.connector.service_url, kind="channel", mention=True, text="q")
    tenant = activity_to_message(raw).inbound.workspace_id  # type: ignore[union-attr]
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes.append(statement)

    engine = parts.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = TurnContext.get_conversation_reference(Activity().deserialize(raw))
        await parts.references.save(tenant, first)
        assert len(writes) == 1
        # The next message of the same conversation: only the message id differs.
        again = TurnContext.get_conversation_reference(Activity().deserialize(raw))
        again.activity_id = "another-message"
        await parts.references.save(tenant, again)
        assert len(writes) == 1
        # Microsoft moved the conversation: the new routing is written.
        moved = TurnContext.get_conversation_reference(Activity().deserialize(raw))
        moved.service_url = "https://smba.example.net/emea/"
        await parts.references.save(tenant, moved)
        assert len(writes) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)
    stored = await parts.references.load(tenant, first.conversation.id)
    assert stored.service_url == "https://smba.example.net/emea/"
