"""The worker's handle on its fork server: start it, send runs, receive events.

The server is a separate process started with an *empty* environment (so its
memory, which every child copies, never held an API key) and a SOCK_SEQPACKET
socket: one message per request or event, and file descriptors travel with the
request (SCM_RIGHTS).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.errors import SandboxError
from core.logging import get_logger

log = get_logger("sandbox.local")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/home/user",
    "PYTHONPATH": str(PROJECT_ROOT),
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "MPLBACKEND": "Agg",
    # One thread per library: the server must stay single-threaded to fork safely,
    # and a sandbox gets one CPU's worth of BLAS anyway.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}


class ForkServerHandle:
    """One running fork server process and its event stream."""

    def __init__(
        self, proc: asyncio.subprocess.Process, sock: socket.socket, state_dir: str
    ) -> None:
        self.proc = proc
        self.sock = sock
        self.state_dir = state_dir
        self.hello: dict[str, Any] = {}
        self.waiters: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def spawn(
        cls,
        *,
        config: dict[str, Any],
        launcher: Sequence[str] = (),
        python: str = sys.executable,
        startup_timeout: float = 120.0,
    ) -> ForkServerHandle:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        state_dir = tempfile.mkdtemp(prefix="nexus-sandbox-")
        os.chmod(state_dir, 0o711)
        config = {
            **config,
            "control_fd": theirs.fileno(),
            "state_dir": state_dir,
            "project_root": str(PROJECT_ROOT),
        }
        try:
            proc = await asyncio.create_subprocess_exec(
                *launcher, python, "-m", "core.sandbox.forkserver", json.dumps(config),
                pass_fds=[theirs.fileno()], env=SERVER_ENV, cwd="/",
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        except OSError as exc:
            ours.close()
            shutil.rmtree(state_dir, ignore_errors=True)
            raise SandboxError(
                "The code sandbox could not be started.", detail=f"fork server: {exc}"
            ) from exc
        finally:
            theirs.close()
        ours.setblocking(False)
        handle = cls(proc, ours, state_dir)
        try:
            raw = await asyncio.wait_for(
                asyncio.get_running_loop().sock_recv(ours, 1 << 20), startup_timeout
            )
        except (TimeoutError, OSError) as exc:
            await handle.terminate()
            raise SandboxError(
                "The code sandbox could not be started.", detail=f"no hello: {exc!r}"
            ) from exc
        if not raw:
            await handle.terminate()
            raise SandboxError(
                "The code sandbox could not be started.",
                detail=f"fork server exited with {await proc.wait()}",
            )
        handle.hello = json.loads(raw)
        handle._reader = asyncio.create_task(handle._read_events())
        return handle

    @property
    def alive(self) -> bool:
        return not self.closed.is_set() and self.proc.returncode is None

    async def _read_events(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                raw = await loop.sock_recv(self.sock, 1 << 20)
                if not raw:
                    break
                event = json.loads(raw)
                queue = self.waiters.get(str(event.get("id")))
                if queue is not None:
                    queue.put_nowait(event)
        except (OSError, ValueError) as exc:
            log.error("sandbox_server_stream_failed", error=repr(exc))
        finally:
            self.closed.set()
            for queue in self.waiters.values():
                queue.put_nowait({"event": "server_gone"})

    def register(self, run_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.waiters[run_id] = queue
        if self.closed.is_set():
            queue.put_nowait({"event": "server_gone"})
        return queue

    def unregister(self, run_id: str) -> None:
        self.waiters.pop(run_id, None)

    async def send(self, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
        data = json.dumps(message).encode()
        loop = asyncio.get_running_loop()
        while True:
            try:
                socket.send_fds(self.sock, [data], list(fds))
                return
            except BlockingIOError:
                ready = loop.create_future()
                loop.add_writer(self.sock.fileno(), ready.set_result, None)
                try:
                    await ready
                finally:
                    loop.remove_writer(self.sock.fileno())
            except OSError as exc:
                raise SandboxError(
                    "The code sandbox stopped unexpectedly.", detail=f"send: {exc}"
                ) from exc

    def send_nowait(self, message: dict[str, Any]) -> None:
        """Best effort, for cancellation paths that cannot await."""
        with contextlib.suppress(OSError):
            self.sock.send(json.dumps(message).encode())

    async def terminate(self, *, force: bool = False) -> None:
        """Stop the server (and with it every run: they die with their parent)."""
        self.send_nowait({"op": "shutdown"})
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(OSError):
            self.sock.close()
        if self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.proc.wait(), 0 if force else 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        self.closed.set()
        shutil.rmtree(self.state_dir, ignore_errors=True)
