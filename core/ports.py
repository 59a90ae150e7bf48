"""The boundary between the conversation core and a platform adapter.

An adapter gives the core two small I/O objects: a :class:`FileFetcher` that
downloads the files an :class:`~core.events.Inbound` refers to, and a
:class:`ReplySender` that posts a :class:`~core.events.Reply` natively. The core
never imports an adapter or a platform SDK; workers find the objects for a
platform in a :class:`PlatformRegistry` built by ``bot/``.

The adapter, in turn, calls :meth:`Intake.accept` with each normalized event and
acks the platform according to the returned :class:`Acceptance`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from core.events import ConversationRef, FileRef, Inbound, Platform, Reply


class FileFetcher(Protocol):
    """Downloads one referenced file with the platform's credentials."""

    async def fetch(self, ref: FileRef, conversation: ConversationRef) -> bytes:
        """Return the file bytes; raise a ``UserFacingError`` for a login page, wrong type,
        expired link or a size over the limit."""
        ...


class ReplySender(Protocol):
    """Posts into one platform. The core guarantees each idempotency key is sent once."""

    async def send(self, reply: Reply) -> None:
        """Post every segment of ``reply`` into its conversation (thread)."""
        ...

    async def progress(self, conversation: ConversationRef, key: str, text: str) -> None:
        """Show or update a status line for long work (``key`` names the job).

        Platforms without editable messages may ignore it.
        """
        ...


@dataclass(frozen=True)
class PlatformIO:
    fetcher: FileFetcher
    sender: ReplySender


@dataclass
class PlatformRegistry:
    """The I/O objects of every configured platform, keyed by platform name."""

    platforms: dict[str, PlatformIO] = field(default_factory=dict)

    def register(self, platform: Platform, io: PlatformIO) -> None:
        self.platforms[platform] = io

    def get(self, platform: str) -> PlatformIO:
        try:
            return self.platforms[platform]
        except KeyError:
            raise LookupError(f"no adapter registered for platform {platform!r}") from None


AcceptanceKind = Literal["enqueued", "duplicate", "replied", "ignored"]


@dataclass(frozen=True)
class Acceptance:
    """What the core did with one inbound event.

    - ``enqueued``: a job was queued (``job_id``); ack success.
    - ``duplicate``: a redelivery; ack success, do nothing.
    - ``replied``: handled at once (a command, a refusal): ack success and post ``reply``.
    - ``ignored``: not addressed to Nexus; ack success.

    If the core cannot record or enqueue the event it raises instead, and the
    adapter must answer the platform with a non-2xx status so it retries.
    """

    kind: AcceptanceKind
    job_id: str | None = None
    reply: Reply | None = None


class Intake(Protocol):
    """What adapters call: the conversation manager's front door."""

    async def accept(self, inbound: Inbound) -> Acceptance: ...
