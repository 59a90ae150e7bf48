"""The playground's I/O for the worker: post replies into the store, read uploads.

Uploads are already in the blob store when the job runs (the web process put them
there, see :mod:`adapters.playground.uploads`), so fetching is a blob read; an upload
over the limit was never stored and is refused here with the same message a Slack
or Discord upload gets.
"""

from __future__ import annotations

from adapters.playground.convert import reply_entry, thread_of
from adapters.playground.store import PlaygroundStore
from core.blobs import BlobStore, workspace_of
from core.datasets.guards import check_file_size
from core.errors import InputError
from core.events import ConversationRef, FileRef, Reply
from core.logging import get_logger
from core.settings import IngestLimits

log = get_logger("adapters.playground.io")


class PlaygroundSender:
    """The :class:`~core.ports.ReplySender`: a reply becomes an entry of its thread."""

    def __init__(self, store: PlaygroundStore) -> None:
        self._store = store

    async def send(self, reply: Reply) -> None:
        thread = thread_of(reply.conversation.thread_id)
        posted = await self._store.add_reply(thread, reply.idempotency_key, reply_entry(reply))
        if not posted:
            log.info("playground_reply_already_posted", key=reply.idempotency_key)

    async def progress(self, conversation: ConversationRef, key: str, text: str) -> None:
        await self._store.set_progress(thread_of(conversation.thread_id), key, text)


class PlaygroundFetcher:
    """The :class:`~core.ports.FileFetcher`: uploads from this workspace's blobs only."""

    def __init__(self, blobs: BlobStore, limits: IngestLimits) -> None:
        self._blobs = blobs
        self._limits = limits

    async def fetch(self, ref: FileRef, conversation: ConversationRef) -> bytes:
        check_file_size(ref.name, ref.size or 0, self._limits)
        key = ref.extra.get("blob_key")
        # Isolation: a crafted reference must not read another workspace's blobs.
        if not isinstance(key, str) or workspace_of(key) != conversation.workspace:
            raise InputError(f"I cannot find the upload of {ref.name}; please upload it again.")
        data = await self._blobs.get(key)
        check_file_size(ref.name, len(data), self._limits)
        return data
