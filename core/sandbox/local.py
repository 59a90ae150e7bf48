"""The local backend: every run is a child forked from a warm, isolated fork server.

The worker never executes user code itself. Per run it creates three pipes
(stdout, stderr, results) and a memfd holding the code, hands them to the fork
server, and reads the pipes here with size caps; going over a cap kills the run.
The fork server enforces the wall-clock deadline and reports how the run ended;
a worker-side backstop restarts a fork server that stops answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.errors import SandboxError
from core.logging import get_logger
from core.sandbox import ast_check
from core.sandbox.forkclient import ForkServerHandle
from core.sandbox.isolation import IsolationReport, describe
from core.sandbox.outcome import Outcome, build_result
from core.sandbox.pipes import CappedPipe
from core.sandbox.protocol import SandboxResult, SandboxRun
from core.settings import SandboxLimits

log = get_logger("sandbox.local")
BACKSTOP_GRACE = 10.0  # beyond the run's own timeout, before we blame the fork server
EOF_GRACE = 2.0  # after the run exited, for pipes still held by a straggler


class LocalSandbox:
    """Sandbox backend on this host. ``launcher`` prefixes the fork server command
    (the test-suite uses it to put the whole sandbox in an outer PID namespace and
    cgroup); ``disable`` turns probed features off, to exercise degraded hosts."""

    name = "local"

    def __init__(
        self,
        limits: SandboxLimits | None = None,
        *,
        launcher: Sequence[str] = (),
        disable: Sequence[str] = (),
        backstop_grace: float = BACKSTOP_GRACE,
    ) -> None:
        self.limits = limits or SandboxLimits()
        self.backstop_grace = backstop_grace
        self.launcher = list(launcher)
        self.disable = list(disable)
        self._server: ForkServerHandle | None = None
        self._report: IsolationReport | None = None
        self._start_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(max(1, self.limits.concurrency))
        self._background: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        async with self._start_lock:
            if self._server is not None and self._server.alive:
                return
            if self._server is not None:
                log.warning("sandbox_server_restarting")
                await self._server.terminate()
            config = {
                "preload": list(self.limits.preload),
                "uid_base": self.limits.uid_base,
                "limits": self._limits_payload(),
                "disable": self.disable,
                "pool_size": max(1, self.limits.concurrency),
            }
            self._server = await ForkServerHandle.spawn(config=config, launcher=self.launcher)
            hello = self._server.hello
            self._report = describe(hello["features"], errors=hello.get("errors"))
            log.info(
                "sandbox_ready",
                summary=self._report.summary_line(),
                startup_seconds=hello.get("startup_seconds"),
                preloaded=hello.get("preloaded"),
            )
            for line in self._report.missing:
                log.warning("sandbox_isolation_missing", what=line)

    async def close(self) -> None:
        async with self._start_lock:
            if self._server is not None:
                await self._server.terminate()
                self._server = None
        for task in list(self._background):
            task.cancel()

    async def drain(self) -> None:
        """Wait until every run that already returned has also been reaped."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def report(self) -> IsolationReport:
        if self._report is None:
            return IsolationReport(backend="local", missing=["sandbox: not started yet"])
        return self._report

    @property
    def server_pid(self) -> int | None:
        return self._server.hello.get("pid") if self._server else None

    def _limits_payload(self) -> dict[str, Any]:
        lim = self.limits
        mib = 1024 * 1024
        return {
            "cpu_seconds": lim.cpu_seconds,
            "memory_bytes": lim.memory_mb * mib,
            "max_processes": lim.max_processes,
            "max_open_files": lim.max_open_files,
            "max_file_bytes": lim.max_file_mb * mib,
            "disk_bytes": lim.disk_mb * mib,
            "max_table_rows": lim.max_table_rows,
            "max_result_bytes": lim.max_result_bytes,
        }

    # ------------------------------------------------------------------ runs

    async def run(self, run: SandboxRun) -> SandboxResult:
        if run.check_code:
            syntax_error = ast_check.check(run.code)  # raises CodeRejectedError
            if syntax_error is not None:
                return SandboxResult(error=syntax_error, backend=self.name)
        datasets = self._datasets(run.datasets)
        await self.start()
        assert self._server is not None
        await self._slots.acquire()
        return await self._execute(self._server, run, datasets)

    def _datasets(self, paths: list[Path]) -> list[list[str]]:
        named: list[list[str]] = []
        taken: set[str] = set()
        total = 0
        for path in paths:
            real = Path(path).resolve()
            if not real.is_file():
                raise SandboxError(
                    "A data file for this analysis is missing.", detail=f"not a file: {path}"
                )
            total += real.stat().st_size
            stem, suffix, name, n = real.stem, real.suffix, real.name, 1
            while name in taken:
                n += 1
                name = f"{stem}_{n}{suffix}"
            taken.add(name)
            named.append([str(real), name])
        if total > self.limits.disk_mb * 1024 * 1024 * 0.9:
            raise SandboxError(
                "The data files are too large for the code sandbox.",
                detail=f"{total} bytes > disk_mb={self.limits.disk_mb}",
            )
        return named

    async def _execute(
        self, server: ForkServerHandle, run: SandboxRun, datasets: list[list[str]]
    ) -> SandboxResult:
        run_id = uuid.uuid4().hex[:16]
        timeout = run.timeout if run.timeout is not None else self.limits.timeout_seconds
        queue = server.register(run_id)
        outcome = Outcome(timeout=timeout, limits=self.limits)

        def overflow(reason: str) -> Callable[[], None]:
            def kill() -> None:
                outcome.overflow.add(reason)
                server.send_nowait({"op": "kill", "id": run_id, "reason": reason})

            return kill

        code_fd = os.memfd_create("nexus-code", os.MFD_CLOEXEC)
        pipes = [os.pipe2(os.O_CLOEXEC) for _ in range(3)]
        caps = (self.limits.max_output_bytes, self.limits.max_output_bytes,
                self.limits.max_result_bytes)  # fmt: skip
        reasons = ("output", "output", "result")
        readers = [
            CappedPipe(r, cap, overflow(reason))
            for (r, _), cap, reason in zip(pipes, caps, reasons, strict=True)
        ]
        exited = sent = False
        try:
            os.write(code_fd, run.code.encode("utf-8", errors="surrogatepass"))
            os.lseek(code_fd, 0, os.SEEK_SET)
            # Datasets travel as open fds: the child copies them in after it has
            # lost sight of every host path.
            data_fds: list[int] = []
            try:
                for path, _ in datasets:
                    data_fds.append(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
                request = {
                    "op": "run", "id": run_id, "timeout": timeout,
                    "datasets": [name for _, name in datasets],
                }  # fmt: skip
                await server.send(request, [w for _, w in pipes] + [code_fd, *data_fds])
                sent = True
            finally:
                for fd in [w for _, w in pipes] + [code_fd, *data_fds]:
                    os.close(fd)
            outcome.started = time.monotonic()
            event = await self._wait(server, queue, readers, outcome, timeout)
            exited = event is not None
            if event is not None:
                outcome.exit = event
                pending = [r.done for r in readers if not r.done.done()]
                if pending:
                    await asyncio.wait(pending, timeout=EOF_GRACE)
        except asyncio.CancelledError:
            server.send_nowait({"op": "kill", "id": run_id, "reason": "cancelled"})
            raise
        finally:
            for reader in readers:
                reader.close()
            # A run that never reached the server has no exit to wait for.
            self._release_on_exit(server, run_id, queue, already=exited or not sent)
        outcome.stdout, outcome.stderr, outcome.results = (bytes(r.buf) for r in readers)
        return build_result(outcome, backend=self.name)

    async def _wait(
        self,
        server: ForkServerHandle,
        queue: asyncio.Queue[dict[str, Any]],
        readers: list[CappedPipe],
        outcome: Outcome,
        limit: float,
    ) -> dict[str, Any] | None:
        """The exit event; or None when the run finished cleanly (a final line with
        no error and EOF everywhere) and its teardown can finish in the background."""
        deadline = outcome.started + limit + self.backstop_grace
        getter: asyncio.Future[dict[str, Any]] | None = None
        try:
            while True:
                if getter is None:
                    getter = asyncio.ensure_future(queue.get())
                reading = [r.done for r in readers if not r.done.done()]
                if not reading and outcome.clean_final(bytes(readers[2].buf)):
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.error("sandbox_server_unresponsive", timeout=limit)
                    await server.terminate(force=True)
                    raise SandboxError(
                        "The code sandbox stopped responding.", detail="backstop deadline passed"
                    )
                # asyncio.wait never cancels what it waits on: the readers' futures
                # stay intact whatever happens to this task.
                waits: set[asyncio.Future[Any]] = {getter, *reading}
                done, _ = await asyncio.wait(
                    waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    event, getter = getter.result(), None
                    if event.get("event") in ("exit", "server_gone"):
                        return event
        finally:
            # Whoever waits for this run's exit next (the slot release) must see
            # every event: hand back one we took but did not get to look at.
            if getter is not None:
                if getter.done() and not getter.cancelled():
                    queue.put_nowait(getter.result())
                else:
                    getter.cancel()

    def _release_on_exit(
        self,
        server: ForkServerHandle,
        run_id: str,
        queue: asyncio.Queue[dict[str, Any]],
        *,
        already: bool,
    ) -> None:
        """Free the concurrency slot only once the run's processes are gone."""
        if already:
            server.unregister(run_id)
            self._slots.release()
            return

        async def wait_exit() -> None:
            try:
                while (await queue.get()).get("event") not in ("exit", "server_gone"):
                    pass
            finally:
                server.unregister(run_id)
                self._slots.release()

        task = asyncio.create_task(wait_exit())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def __aenter__(self) -> LocalSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.close()
