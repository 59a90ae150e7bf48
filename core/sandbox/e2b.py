"""The E2B backend: one Firecracker microVM per conversation, via ``e2b-code-interpreter``.

A session (workspace + thread) keeps its sandbox for follow-ups and loses it after
``e2b_idle_seconds`` without use; datasets are uploaded once per sandbox (by content
hash). Internet access is off and every call has an explicit timeout. The user code
runs inside the same runtime as the local backend (its source is sent along), so
results come back as the same structured items, published as display data.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2b import TimeoutException
from e2b_code_interpreter import AsyncSandbox
from pydantic import TypeAdapter, ValidationError

from core.errors import SandboxError
from core.logging import get_logger
from core.sandbox import ast_check, runtime, serialize
from core.sandbox.isolation import IsolationReport
from core.sandbox.outcome import decode_files
from core.sandbox.protocol import (
    SandboxErrorInfo,
    SandboxResult,
    SandboxRun,
    StructuredResult,
    TextResult,
)
from core.settings import SandboxLimits

log = get_logger("sandbox.e2b")
HOME = "/home/user"
REQUEST_TIMEOUT = 30.0
_ITEM = TypeAdapter(StructuredResult)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _module_source(module: Any) -> str:
    lines = inspect.getsource(module).splitlines()
    keep = [ln for ln in lines if not ln.startswith(("from __future__", "from core."))]
    return "\n".join(keep)


# serialize first: runtime calls its to_item.
PRELUDE = _module_source(serialize) + "\n\n" + _module_source(runtime) + "\n"


def wrap_code(code: str, max_rows: int) -> str:
    """What is sent to the kernel: the runtime, then one call running the user code."""
    return f"{PRELUDE}\nnexus_main({code!r}, {int(max_rows)})\n"


@dataclass
class _Session:
    sandbox: AsyncSandbox
    uploaded: dict[str, str] = field(default_factory=dict)  # name -> sha256
    last_used: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class E2BSandbox:
    name = "e2b"

    def __init__(
        self,
        api_key: str,
        limits: SandboxLimits | None = None,
        *,
        api_url: str | None = None,
        sandbox_url: str | None = None,
        domain: str | None = None,
        template: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits or SandboxLimits()
        # URLs left as None fall back to the SDK's own E2B_API_URL / E2B_SANDBOX_URL
        # / E2B_DOMAIN settings.
        self._opts: dict[str, Any] = {
            "api_key": api_key,
            "api_url": api_url,
            "sandbox_url": sandbox_url,
            "domain": domain,
            "request_timeout": REQUEST_TIMEOUT,
        }
        self._template = template
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._pending_kills: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap_forever())
            log.info("sandbox_ready", summary=self.report().summary_line())

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for key in list(self._sessions):
            await self._drop(key)
        if self._pending_kills:
            await asyncio.gather(*self._pending_kills, return_exceptions=True)

    def report(self) -> IsolationReport:
        return IsolationReport(
            backend="e2b",
            features={"microvm": True, "internet": False},
            enforced=[
                "isolation: one E2B Firecracker microVM per conversation",
                "network: internet access disabled at creation",
                "environment: no variables passed in (no API keys or tokens)",
                f"limits: {self.limits.timeout_seconds:g} s per run, idle sandboxes closed after"
                f" {self.limits.e2b_idle_seconds:g} s; output and result sizes capped",
            ],
        )

    # ------------------------------------------------------------------ sessions

    async def _create(self) -> AsyncSandbox:
        lifetime = int(self.limits.e2b_idle_seconds + 4 * self.limits.timeout_seconds)
        try:
            return await AsyncSandbox.create(
                template=self._template,
                timeout=lifetime,
                envs={},
                metadata={"app": "nexus"},
                allow_internet_access=False,
                **self._opts,
            )
        except Exception as exc:
            raise SandboxError(
                "The code sandbox is unavailable right now.", detail=f"e2b create: {exc!r}"
            ) from exc

    async def _drop(self, key: str) -> None:
        session = self._sessions.pop(key, None)
        if session is not None:
            await self._kill(session.sandbox)

    async def _kill(self, sandbox: AsyncSandbox) -> None:
        try:
            await sandbox.kill()
        except Exception as exc:  # it expires on its own; nothing else to do
            log.warning("e2b_kill_failed", error=repr(exc))

    async def close_idle(self, now: float | None = None) -> int:
        """Close sandboxes unused for ``e2b_idle_seconds``; returns how many."""
        now = self._clock() if now is None else now
        idle = [
            key
            for key, s in self._sessions.items()
            if not s.lock.locked() and now - s.last_used >= self.limits.e2b_idle_seconds
        ]
        for key in idle:
            await self._drop(key)
        return len(idle)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.limits.e2b_idle_seconds / 4))
            await self.close_idle()

    @property
    def active_sessions(self) -> int:
        return len(self._sessions)

    # ------------------------------------------------------------------ runs

    async def run(self, run: SandboxRun) -> SandboxResult:
        if run.check_code:
            syntax_error = ast_check.check(run.code)
            if syntax_error is not None:
                return SandboxResult(error=syntax_error, backend=self.name)
        await self.start()
        if run.session is None:
            session = _Session(await self._create())
            try:
                return await self._run_in(session, run, key=None)
            finally:
                await self._kill(session.sandbox)
        key = run.session
        if key not in self._sessions:
            self._sessions[key] = _Session(await self._create())
        session = self._sessions[key]
        async with session.lock:
            try:
                return await self._run_in(session, run, key=key)
            finally:
                session.last_used = self._clock()

    async def _upload(self, session: _Session, datasets: list[Path]) -> None:
        for path in datasets:
            data = await asyncio.to_thread(Path(path).read_bytes)
            digest = hashlib.sha256(data).hexdigest()
            name = Path(path).name
            if session.uploaded.get(name) == digest:
                continue
            await session.sandbox.files.write(f"{HOME}/{name}", data)
            session.uploaded[name] = digest

    async def _run_in(
        self, session: _Session, run: SandboxRun, *, key: str | None
    ) -> SandboxResult:
        timeout = run.timeout if run.timeout is not None else self.limits.timeout_seconds
        started = time.monotonic()
        try:
            await self._upload(session, run.datasets)
            execution = await session.sandbox.run_code(
                wrap_code(run.code, self.limits.max_table_rows),
                timeout=timeout,
                request_timeout=REQUEST_TIMEOUT,
            )
        except TimeoutException:
            # The kernel may still be busy with it: this sandbox is done for.
            if key is not None:
                await self._drop(key)
            return SandboxResult(
                error=SandboxErrorInfo(
                    type="TimeoutError",
                    message=f"The code ran longer than {timeout:g} s and was stopped.",
                ),
                duration=round(time.monotonic() - started, 4),
                timed_out=True,
                limits_hit=["timeout"],
                backend=self.name,
            )
        except asyncio.CancelledError:
            # The kernel may still be running the code; do not leave it to a follow-up.
            if key is not None and (dropped := self._sessions.pop(key, None)) is not None:
                task = asyncio.get_running_loop().create_task(self._kill(dropped.sandbox))
                self._pending_kills.add(task)
                task.add_done_callback(self._pending_kills.discard)
            raise
        except Exception as exc:  # SandboxException, and transport errors as httpx raises them
            if key is not None:
                await self._drop(key)
            raise SandboxError(
                "The code sandbox is unavailable right now.", detail=f"e2b run: {exc!r}"
            ) from exc
        result = self._map(execution)
        result.duration = round(time.monotonic() - started, 4)
        return result

    def _map(self, execution: Any) -> SandboxResult:
        cap = self.limits.max_output_bytes
        result = SandboxResult(backend=self.name)
        stdout, stderr = "".join(execution.logs.stdout), "".join(execution.logs.stderr)
        if len(stdout.encode()) > cap or len(stderr.encode()) > cap:
            result.limits_hit.append("output")
        result.stdout = stdout.encode()[:cap].decode(errors="ignore")
        result.stderr = stderr.encode()[:cap].decode(errors="ignore")
        final: dict[str, Any] | None = None
        for item in execution.results:
            payload = item.json if isinstance(item.json, dict) else None
            if payload and isinstance(payload.get("nexus_final"), dict):
                final = payload["nexus_final"]
            elif payload and "nexus" in payload:
                with contextlib.suppress(ValidationError):
                    result.results.append(_ITEM.validate_python(payload["nexus"]))
            elif item.text:
                result.results.append(TextResult(value=item.text, is_main=item.is_main_result))
        if final is not None:
            if final.get("error"):
                with contextlib.suppress(ValidationError):
                    result.error = SandboxErrorInfo.model_validate(final["error"])
            result.files = decode_files(final.get("files") or [])
            for name in final.get("skipped_files") or []:
                result.stderr += f"[sandbox] file {str(name)[:200]!r} not returned: too large\n"
        if execution.error is not None:  # raised outside the runtime (kernel-level)
            result.error = SandboxErrorInfo(
                type=execution.error.name,
                message=_ANSI.sub("", execution.error.value),
                traceback=_ANSI.sub("", execution.error.traceback),
            )
        elif final is None:
            result.error = SandboxErrorInfo(
                type="SandboxCrash", message="The code stopped before reporting its results."
            )
        if result.error is not None and result.error.type == "MemoryError":
            result.limits_hit.append("memory")
        return result
