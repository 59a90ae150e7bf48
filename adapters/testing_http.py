"""The test platform over HTTP, for workers in another process.

A worker subprocess cannot share a :class:`adapters.testing.RecordingSender` with the
test, so it gets an :class:`HttpSender` and an :class:`HttpFetcher` that talk to a
:class:`FakeChatServer` the test runs on 127.0.0.1: replies are recorded there, and
files are served from there (optionally holding a request until the test says so,
to kill a worker mid-job).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from aiohttp import ClientSession, ClientTimeout, web

from core.events import ConversationRef, FileRef, Reply
from core.ports import PlatformIO


class _Client:
    def __init__(self, base_url: str, timeout: float) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = ClientTimeout(total=timeout)
        self._session: ClientSession | None = None

    def _client(self) -> ClientSession:
        if self._session is None or self._session.closed:
            self._session = ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class HttpSender(_Client):
    """Posts replies (as JSON) and progress lines to a :class:`FakeChatServer`."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        super().__init__(base_url, timeout)

    async def send(self, reply: Reply) -> None:
        async with self._client().post(
            f"{self._base}/replies", json=reply.model_dump(mode="json")
        ) as response:
            response.raise_for_status()

    async def progress(self, conversation: ConversationRef, key: str, text: str) -> None:
        body = {"conversation": conversation.model_dump(mode="json"), "key": key, "text": text}
        async with self._client().post(f"{self._base}/progress", json=body) as response:
            response.raise_for_status()


class HttpFetcher(_Client):
    """Downloads ``GET <base>/files/<file id>``."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        super().__init__(base_url, timeout)

    async def fetch(self, ref: FileRef, conversation: ConversationRef) -> bytes:
        async with self._client().get(f"{self._base}/files/{ref.id}") as response:
            response.raise_for_status()
            return await response.read()


def http_io(base_url: str) -> PlatformIO:
    return PlatformIO(fetcher=HttpFetcher(base_url), sender=HttpSender(base_url))


class FakeChatServer:
    """The test's side: records replies, serves files, can hold a file's first download."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.progress: list[str] = []
        self.files: dict[str, bytes] = {}
        self.downloads: Counter[str] = Counter()
        self._held: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def hold_first_download(self, file_id: str) -> asyncio.Event:
        """The first download of ``file_id`` waits for the returned event; later ones don't."""
        self._held[file_id] = asyncio.Event()
        return self._held[file_id]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _reply(self, request: web.Request) -> web.Response:
        self.replies.append(Reply.model_validate(await request.json()))
        await self._notify()
        return web.json_response({"ok": True})

    async def _progress(self, request: web.Request) -> web.Response:
        self.progress.append(str((await request.json())["text"]))
        await self._notify()
        return web.json_response({"ok": True})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        self.downloads[file_id] += 1
        await self._notify()
        held = self._held.get(file_id)
        if held is not None and self.downloads[file_id] == 1:
            await held.wait()
        if file_id not in self.files:
            raise web.HTTPNotFound()
        return web.Response(body=self.files[file_id], content_type="application/octet-stream")

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/replies", self._reply)
        app.router.add_post("/progress", self._progress)
        app.router.add_get("/files/{file_id}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        for event in self._held.values():
            event.set()
        if self._runner is not None:
            await self._runner.cleanup()
