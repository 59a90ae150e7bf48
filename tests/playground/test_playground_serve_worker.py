"""The playground in the `nexus serve` + `nexus worker` shape, on real Redis and ARQ.

Two plugin instances built from the same settings stand for the two processes: the
web one serves the page's API and hands messages to the conversation manager; the
worker one is registered in the ARQ worker's registry and posts replies. They share
nothing but Redis and the data dir, as separate processes would; a reply written by
the worker's sender must appear in the web process's thread.
"""

from __future__ import annotations

import contextlib
import io
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from conversation.conversation_stack import Stack, open_stack, wait_until
from redis.asyncio import Redis

from adapters.playground import PlaygroundPlugin
from bot.platforms import load_plugins
from bot.server_cli import dev_defaults
from core.blobs import BlobStore
from core.errors import InputError
from core.events import ConversationRef, FileRef, Reply
from core.settings import Settings

THREAD = "thread0001"


@dataclass
class Served:
    stack: Stack
    client: TestClient[Any, Any]
    worker_plugin: PlaygroundPlugin

    async def post(self, text: str, *, event_id: str, files: dict[str, bytes] | None = None,
                   actor: str | None = None) -> tuple[int, dict[str, Any]]:  # fmt: skip
        form = aiohttp.FormData()
        form.add_field("text", text)
        form.add_field("event_id", event_id)
        if actor:
            form.add_field("actor", actor)
        for name, data in (files or {}).items():
            form.add_field("file", data, filename=name, content_type="text/csv")
        response = await self.client.post(f"/playground/api/threads/{THREAD}/messages", data=form)
        return response.status, await response.json()

    async def thread(self) -> dict[str, Any]:
        response = await self.client.get(f"/playground/api/threads/{THREAD}/events?after=-1")
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body

    async def replies(self, count: int) -> list[dict[str, Any]]:
        async def arrived() -> bool:
            return len(_replies(await self.thread())) >= count

        await wait_until(arrived, within=30)
        return _replies(await self.thread())


def _replies(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in view["entries"] if e["type"] == "reply"]


ServedFactory = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(
    redis_url: str, redis_client: Redis, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[ServedFactory]:
    """Build the two "processes" over one stack (``open_stack`` options pass through)."""
    async with contextlib.AsyncExitStack() as cleanup:

        async def build(*, worker: bool = True, **options: Any) -> Served:
            stack = await open_stack(
                database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
                redis_client=redis_client,
                redis_url=redis_url,
                prefix=redis_prefix,
                data_dir=tmp_path / "data",
                playground=True,
                **options,
            )
            cleanup.push_async_callback(stack.close)
            web_plugin = PlaygroundPlugin(stack.settings)
            worker_plugin = PlaygroundPlugin(stack.settings)
            cleanup.push_async_callback(web_plugin.close)
            cleanup.push_async_callback(worker_plugin.close)
            stack.registry.register("playground", worker_plugin.io())
            if worker:
                await stack.start_worker()
            app = web.Application()
            web_plugin.install_routes(app, stack.manager)
            client = await cleanup.enter_async_context(TestClient(TestServer(app)))
            return Served(stack, client, worker_plugin)

        yield build


@pytest.fixture
async def served(serve: ServedFactory) -> Served:
    return await serve()


async def test_a_question_crosses_processes_and_comes_back(served: Served, tips_csv: bytes) -> None:
    event = uuid.uuid4().hex
    status, body = await served.post(
        "average tip by day", event_id=event, files={"tips.csv": tips_csv}
    )
    assert (status, body["kind"]) == (200, "enqueued")
    # The page resent it (a network error): the core sees a duplicate, the thread one message.
    status, again = await served.post("average tip by day", event_id=event)
    assert (status, again.get("kind")) == (200, "duplicate"), again

    (reply,) = await served.replies(1)
    assert reply["key"] == body["job_id"]
    table = next(s for s in reply["segments"] if s["kind"] == "table")
    expected = pd.read_csv(io.BytesIO(tips_csv)).groupby("day")["tip"].mean()
    assert {row[0]: row[1] for row in table["rows"]} == pytest.approx(expected.to_dict())
    view = await served.thread()
    assert [e["type"] for e in view["entries"]] == ["message", "reply"]
    assert view["progress"] == {}  # the reply cleared the job's status line

    # The worker's sender posting the same reply again changes nothing.
    sender = served.worker_plugin.io().sender
    conversation = ConversationRef(
        platform="playground", workspace_id="local", channel_id="chat", thread_id=THREAD
    )
    await sender.send(Reply.from_text(conversation, "again", idempotency_key=reply["key"]))
    assert len(_replies(await served.thread())) == 1


async def test_local_user_owns_the_workspace_and_commands_answer_at_once(
    served: Served,
) -> None:
    status, body = await served.post("role", event_id=uuid.uuid4().hex)
    assert (status, body["kind"]) == (200, "replied")
    (reply,) = await served.replies(1)
    assert reply["segments"][0]["text"] == "Your role here is owner."
    usage = await (await served.client.get("/playground/api/usage")).json()
    assert usage["members"] == [{"user": "you", "role": "owner"}]

    await served.post("role", event_id=uuid.uuid4().hex, actor="newcomer")
    assert (await served.replies(2))[1]["segments"][0]["text"] == "Your role here is analyst."


async def test_when_the_core_cannot_take_a_message_the_page_hears_503(
    serve: ServedFactory,
) -> None:
    with socket.socket() as sock:  # a port with nothing listening: the queue is down
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    served = await serve(worker=False, queue_url=dead)
    event = uuid.uuid4().hex
    status, body = await served.post("average tip by day", event_id=event)
    assert status == 503 and "Send it again" in body["error"]
    entries = (await served.thread())["entries"]
    assert [e["type"] for e in entries] == ["message", "notice"]
    assert entries[1]["text"] == body["error"]


async def test_bad_input_and_other_workspaces_are_refused(served: Served) -> None:
    status, body = await served.post("   ", event_id=uuid.uuid4().hex)
    assert status == 400 and body["error"] == "Type a message or attach a file."
    status, body = await served.post("hi", event_id="x")
    assert status == 400 and "client id" in body["error"]
    blobs = BlobStore.for_data_dir(served.stack.settings.data_dir)
    secret = await blobs.put("slack:T1", "uploads", "f1", data=b"another workspace's file")
    response = await served.client.get("/playground/api/blob", params={"key": secret})
    assert response.status == 404
    fetcher = served.worker_plugin.io().fetcher
    conversation = ConversationRef(
        platform="playground", workspace_id="local", channel_id="chat", thread_id=THREAD
    )
    crafted = FileRef(id="f1", name="x.csv", size=10, extra={"blob_key": secret})
    with pytest.raises(InputError):
        await fetcher.fetch(crafted, conversation)


def test_the_playground_is_off_unless_enabled() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    (plugin,) = (p for p in load_plugins(settings) if p.platform == "playground")
    assert plugin.configured is False
    assert plugin.status.startswith("playground: off")
    enabled = PlaygroundPlugin(settings.model_copy(update={"playground": True}))
    assert enabled.configured and "no login" in enabled.status


@pytest.mark.parametrize(
    ("configured", "host", "enabled"),
    [
        (None, "127.0.0.1", True),
        (None, "localhost", True),
        (None, "::1", True),
        (None, "0.0.0.0", False),  # e.g. `docker run IMAGE dev`: reachable, so off
        (None, "nexus.example.com", False),
        (False, "127.0.0.1", False),
        (True, "0.0.0.0", True),  # asked for explicitly
    ],
)
def test_nexus_dev_turns_it_on_only_on_loopback(
    configured: bool | None, host: str, enabled: bool
) -> None:
    settings = Settings(_env_file=None, playground=configured)  # type: ignore[call-arg]
    assert dev_defaults(settings, host).playground is enabled
