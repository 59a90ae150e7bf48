"""An in-memory platform for tests and benchmarks: drive the whole path with no platform.

- :class:`RecordingSender` keeps every posted reply and progress line, and lets a test
  wait (with a timeout, never a sleep) until a condition holds.
- :class:`DictFetcher` serves file bytes by file id; a file can be held until the test
  releases it, or fail with a given exception.
- :func:`make_inbound` builds an :class:`Inbound` with sensible defaults.
- :class:`InMemoryAdapter` plays the adapter's part: ``accept`` and, for an immediate
  reply (a command or a refusal), post it like a real adapter would.

For a worker in another process, see :mod:`adapters.testing_http`.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.events import ConversationRef, FileRef, Inbound, Reply
from core.ports import Acceptance, Intake, PlatformIO

_counter = itertools.count(1)


def make_inbound(
    text: str = "",
    *,
    workspace: str = "T1",
    channel: str = "C1",
    thread: str | None = None,
    actor: str = "U1",
    files: list[FileRef] | None = None,
    message_id: str | None = None,
    event_id: str | None = None,
    mentioned: bool = True,
    command: str | None = None,
    platform: Any = "test",
) -> Inbound:
    """A message to the bot on the ``test`` platform (unique ids unless given)."""
    number = next(_counter)
    return Inbound(
        platform=platform,
        workspace_id=workspace,
        channel_id=channel,
        thread_id=thread,
        message_id=message_id or f"m{number}-{uuid.uuid4().hex[:8]}",
        event_id=event_id or f"e{number}-{uuid.uuid4().hex[:8]}",
        actor_id=actor,
        text=text,
        files=files or [],
        mentioned=mentioned,
        command=command,
    )


def file_ref(file_id: str, name: str, size: int | None = None) -> FileRef:
    return FileRef(id=file_id, name=name, size=size)


@dataclass(frozen=True)
class Progress:
    conversation: ConversationRef
    key: str
    text: str


class RecordingSender:
    """A ReplySender that remembers what it was asked to post."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.progress_updates: list[Progress] = []
        self._changed = asyncio.Condition()

    async def send(self, reply: Reply) -> None:
        async with self._changed:
            self.replies.append(reply)
            self._changed.notify_all()

    async def progress(self, conversation: ConversationRef, key: str, text: str) -> None:
        async with self._changed:
            self.progress_updates.append(Progress(conversation, key, text))
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Until ``predicate()`` holds after a post; TimeoutError otherwise."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_replies(self, count: int, within: float = 10.0) -> list[Reply]:
        await self.wait_for(lambda: len(self.replies) >= count, within)
        return list(self.replies)

    def texts(self) -> list[str]:
        return [reply.text for reply in self.replies]

    def for_key(self, key: str) -> list[Reply]:
        return [r for r in self.replies if r.idempotency_key == key]


@dataclass
class DictFetcher:
    """A FileFetcher serving bytes by file id."""

    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, BaseException] = field(default_factory=dict)
    holds: dict[str, asyncio.Event] = field(default_factory=dict)
    started: dict[str, asyncio.Event] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def hold(self, file_id: str) -> tuple[asyncio.Event, asyncio.Event]:
        """Make fetches of ``file_id`` wait: returns (started, release) events."""
        self.started[file_id], self.holds[file_id] = asyncio.Event(), asyncio.Event()
        return self.started[file_id], self.holds[file_id]

    async def fetch(self, ref: FileRef, conversation: ConversationRef) -> bytes:
        self.calls.append(ref.id)
        if ref.id in self.started:
            self.started[ref.id].set()
        if ref.id in self.holds:
            await self.holds[ref.id].wait()
        if ref.id in self.failures:
            raise self.failures[ref.id]
        try:
            return self.files[ref.id]
        except KeyError:
            raise FileNotFoundError(ref.id) from None


class InMemoryAdapter:
    """The adapter's half of the contract, for tests: accept, then post immediate replies."""

    def __init__(self, intake: Intake, sender: RecordingSender) -> None:
        self.intake = intake
        self.sender = sender

    async def deliver(self, inbound: Inbound) -> Acceptance:
        acceptance = await self.intake.accept(inbound)
        if acceptance.kind == "replied" and acceptance.reply is not None:
            await self.sender.send(acceptance.reply)
        return acceptance


def memory_io(
    files: Mapping[str, bytes] | None = None,
) -> tuple[PlatformIO, RecordingSender, DictFetcher]:
    """A PlatformIO for the ``test`` platform with its sender and fetcher."""
    sender, fetcher = RecordingSender(), DictFetcher(files=dict(files or {}))
    return PlatformIO(fetcher=fetcher, sender=sender), sender, fetcher
