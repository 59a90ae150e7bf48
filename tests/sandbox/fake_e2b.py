"""A fake E2B, on 127.0.0.1 port 0, speaking the wire protocol the real SDK uses.

- control plane: ``POST /v2/sandboxes`` (201 + sandbox JSON), ``DELETE
  /sandboxes/{id}`` (204), authenticated with ``X-API-KEY``;
- envd (port 49983 in real life): ``GET /health``, ``POST /files?path=`` (multipart
  or octet-stream), authenticated with ``X-Access-Token``;
- code interpreter (port 49999): ``POST /execute`` streaming NDJSON lines
  (``stdout``/``stderr``/``result``/``error``/``end_of_execution``).

With ``E2B_SANDBOX_URL`` set (``sandbox_url=``), the SDK sends envd and Jupyter
traffic to one URL and names the sandbox in the ``E2b-Sandbox-Id`` header.

Code is executed with the *local* sandbox backend. A Jupyter kernel's
``IPython.display.display`` is emulated with a tiny shim that hands display data
to the local runtime's ``result()``; the fake turns those back into ``result``
messages. Kernel state does not persist between executions (each is a fresh run).
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from core.sandbox.local import LocalSandbox
from core.sandbox.protocol import JsonResult, SandboxRun, TextResult

KERNEL_SHIM = """\
import sys as _nx_sys, types as _nx_types
_nx_ipy = _nx_types.ModuleType("IPython")
_nx_disp = _nx_types.ModuleType("IPython.display")
def _nx_display(obj, raw=False):
    result(obj)
_nx_disp.display = _nx_display
_nx_ipy.display = _nx_disp
_nx_sys.modules["IPython"] = _nx_ipy
_nx_sys.modules["IPython.display"] = _nx_disp
"""


@dataclass
class FakeBox:
    id: str
    token: str
    body: dict[str, Any]
    dir: Path
    alive: bool = True
    executions: int = 0
    uploads: list[str] = field(default_factory=list)


class FakeE2B:
    def __init__(self, local: LocalSandbox, api_key: str) -> None:
        self.local = local
        self.api_key = api_key
        self.boxes: dict[str, FakeBox] = {}
        self.root = Path(tempfile.mkdtemp(prefix="fake-e2b-"))
        self.app = web.Application()
        self.app.add_routes(
            [
                web.post("/v2/sandboxes", self.create),
                web.delete("/sandboxes/{id}", self.kill),
                web.get("/health", self.health),
                web.post("/files", self.upload),
                web.post("/execute", self.execute),
            ]
        )
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.cancelled_executions = 0

    async def start(self) -> str:
        # handler_cancellation: a client that hangs up (SDK timeout) cancels the run.
        self.runner = web.AppRunner(self.app, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ control plane

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("X-API-KEY") == self.api_key

    async def create(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 401, "message": "Invalid API key"}, status=401)
        body = await request.json()
        box_id = "fake" + secrets.token_hex(6)
        box = FakeBox(box_id, secrets.token_hex(8), body, self.root / box_id)
        box.dir.mkdir()
        self.boxes[box_id] = box
        return web.json_response(
            {
                "templateID": body.get("templateID", "code-interpreter-v1"),
                "sandboxID": box_id,
                "clientID": "fake",
                "envdVersion": "0.6.5",
                "envdAccessToken": box.token,
                "domain": None,
            },
            status=201,
        )

    async def kill(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 401, "message": "Invalid API key"}, status=401)
        box = self.boxes.get(request.match_info["id"])
        if box is None or not box.alive:
            return web.json_response({"code": 404, "message": "not found"}, status=404)
        box.alive = False
        return web.Response(status=204)

    # ------------------------------------------------------------------ in the sandbox

    def _box(self, request: web.Request) -> FakeBox | None:
        box = self.boxes.get(request.headers.get("E2b-Sandbox-Id", ""))
        if box is None or not box.alive:
            return None
        if request.headers.get("X-Access-Token") != box.token:
            return None
        return box

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(status=204 if self._box(request) else 502)

    async def upload(self, request: web.Request) -> web.Response:
        box = self._box(request)
        if box is None:
            return web.Response(status=502, text="sandbox not found")
        written = []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, BodyPartReader)
                path = request.query.get("path") or part.filename or ""
                written.append(self._store(box, path, await part.read()))
        else:
            written.append(self._store(box, request.query["path"], await request.read()))
        return web.json_response(
            [{"name": Path(p).name, "type": "file", "path": p} for p in written]
        )

    def _store(self, box: FakeBox, path: str, data: bytes) -> str:
        if not path.startswith("/home/user/") or "/" in path[len("/home/user/") :]:
            raise web.HTTPBadRequest(text="the fake stores files directly in /home/user only")
        (box.dir / Path(path).name).write_bytes(data)
        box.uploads.append(path)
        return path

    async def execute(self, request: web.Request) -> web.StreamResponse:
        box = self._box(request)
        if box is None:
            return web.Response(status=502, text="sandbox not found")
        body = await request.json()
        box.executions += 1
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)

        async def send(message: dict[str, Any]) -> None:
            await response.write((json.dumps(message) + "\n").encode())

        datasets = sorted(box.dir.iterdir())
        run = SandboxRun(code=KERNEL_SHIM + body["code"], datasets=datasets, timeout=120,
                         check_code=False)  # fmt: skip
        try:
            res = await self.local.run(run)
        except BaseException:
            self.cancelled_executions += 1
            raise
        now = time.time_ns()
        if res.stdout:
            await send({"type": "stdout", "text": res.stdout, "timestamp": now})
        if res.stderr:
            await send({"type": "stderr", "text": res.stderr, "timestamp": now})
        for item in res.results:
            if isinstance(item, JsonResult) and isinstance(item.value, dict):
                bundle = item.value
                await send({"type": "result", "json": bundle.get("application/json"),
                            "is_main_result": False})  # fmt: skip
            elif isinstance(item, TextResult):
                await send({"type": "result", "text": item.value, "is_main_result": item.is_main})
        if res.error is not None:
            await send({"type": "error", "name": res.error.type, "value": res.error.message,
                        "traceback": res.error.traceback})  # fmt: skip
        await send({"type": "number_of_executions", "execution_count": box.executions})
        await send({"type": "end_of_execution"})
        await response.write_eof()
        return response
