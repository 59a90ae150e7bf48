"""The playground's HTTP side: the page at ``/`` and the small JSON API it calls.

- ``GET /`` and ``/playground/static/*``: the page (plain HTML, CSS and JS).
- ``POST /playground/api/threads/{thread}/messages``: one message (multipart: ``text``,
  ``actor``, ``event_id`` and files). It is recorded in the thread, then handed to
  the conversation manager like any platform's event, and acked per the
  ``Acceptance``: an immediate reply (a command, a refusal) is posted at once; a
  queued job answers later through the worker's sender. If the manager raises, the
  answer is 503 (a platform would retry) and the thread says so.
- ``GET /playground/api/threads/{thread}/events?after=N``: entries after ``N`` and
  the live status lines (the page polls it).
- ``GET /playground/api/threads``, ``GET /playground/api/usage``,
  ``GET /playground/api/blob?key=``: the thread list, the usage view, large images.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from aiohttp import web

from adapters.playground.convert import (
    LOCAL_USER,
    check_thread,
    message_entry,
    notice_entry,
    to_inbound,
)
from adapters.playground.io import PlaygroundSender
from adapters.playground.store import PlaygroundStore
from adapters.playground.uploads import read_message_form
from adapters.playground.usage import usage_view
from core.blobs import BlobStore, workspace_of
from core.errors import InputError, StorageError
from core.events import PNG_MAGIC, workspace_key
from core.logging import get_logger
from core.ports import Intake
from core.settings import IngestLimits
from core.storage.db import Database

log = get_logger("adapters.playground.routes")

STATIC_DIR = Path(__file__).parent / "static"
API = "/playground/api"


def _bad_request(error: InputError) -> web.Response:
    return web.json_response({"error": error.user_message}, status=400)


class PlaygroundRoutes:
    def __init__(
        self,
        *,
        intake: Intake,
        store: PlaygroundStore,
        sender: PlaygroundSender,
        blobs: BlobStore,
        database: Database,
        limits: IngestLimits,
        workspace_id: str,
    ) -> None:
        self._intake = intake
        self._store = store
        self._sender = sender
        self._blobs = blobs
        self._database = database
        self._limits = limits
        self._workspace = workspace_key("playground", workspace_id)

    def mount(self, app: web.Application) -> None:
        app.router.add_get("/", self.index)
        app.router.add_static("/playground/static", STATIC_DIR)
        app.router.add_get(f"{API}/threads", self.threads)
        app.router.add_post(f"{API}/threads/{{thread}}/messages", self.post_message)
        app.router.add_get(f"{API}/threads/{{thread}}/events", self.events)
        app.router.add_get(f"{API}/usage", self.usage)
        app.router.add_get(f"{API}/blob", self.blob)

    async def index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def threads(self, _request: web.Request) -> web.Response:
        return web.json_response({"threads": await self._store.threads(), "me": LOCAL_USER})

    async def post_message(self, request: web.Request) -> web.Response:
        try:
            thread = check_thread(request.match_info["thread"])
            form = await read_message_form(request, self._blobs, self._workspace, self._limits)
            inbound = to_inbound(
                thread=thread,
                actor=form.fields.get("actor") or LOCAL_USER,
                text=form.fields.get("text", "").strip(),
                event_id=form.fields.get("event_id", ""),
                files=form.files,
            )
        except InputError as exc:
            return _bad_request(exc)
        if not inbound.text and not inbound.files:
            return _bad_request(InputError("Type a message or attach a file."))
        await self._store.add_message(thread, inbound.event_id, message_entry(inbound))
        try:
            acceptance = await self._intake.accept(inbound)
        except Exception as exc:
            # What a platform does on a non-2xx ack is retry; here the person can.
            log.warning("playground_not_accepted", error=type(exc).__name__)
            text = "Nexus could not take that message (it answered 503). Send it again."
            await self._store.add_message(thread, uuid.uuid4().hex, notice_entry(text))
            return web.json_response({"error": text}, status=503)
        if acceptance.kind == "replied" and acceptance.reply is not None:
            await self._sender.send(acceptance.reply)
        return web.json_response({"kind": acceptance.kind, "job_id": acceptance.job_id})

    async def events(self, request: web.Request) -> web.Response:
        try:
            thread = check_thread(request.match_info["thread"])
            after = int(request.query.get("after", "-1"))
        except (InputError, ValueError):
            return _bad_request(InputError("Give a thread id and an integer `after`."))
        view = await self._store.read(thread, after)
        return web.json_response({"entries": view.entries, "progress": view.progress})

    async def usage(self, _request: web.Request) -> web.Response:
        return web.json_response(await usage_view(self._database, self._workspace))

    async def blob(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        try:
            if workspace_of(key) != self._workspace:  # never another workspace's bytes
                raise web.HTTPNotFound()
            data = await self._blobs.get(key)
        except StorageError:
            raise web.HTTPNotFound() from None
        kind = "image/png" if data.startswith(PNG_MAGIC) else "application/octet-stream"
        return web.Response(body=data, content_type=kind)
