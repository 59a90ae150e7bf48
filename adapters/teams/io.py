"""Posting into Teams from anywhere: proactive replies from the stored reference.

:class:`TeamsSender` is the :class:`~core.ports.ReplySender` the worker uses. For each
reply it loads the conversation reference the turn stored (:mod:`.references`),
opens a proactive turn with ``CloudAdapter.continue_conversation`` and posts the
rendered activities (:mod:`.render`) one by one through :class:`.retry.ConnectorRetry`:
the answer (text or card) first, then each chart as its own image activity, fitted
to Teams' limits (:mod:`.images`). Each activity answers the asker's message
(``replyToId``), so in a channel it lands in the same thread.

Progress is a typing indicator, sent at most every ``typing_interval`` seconds per
job: Teams has no cheap editable status line, and typing lasts a few seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams.images import fit_png
from adapters.teams.references import ReferenceStore
from adapters.teams.render import ActivityJson, ImagePost, image_activity, render_reply
from adapters.teams.retry import ConnectorRetry
from core.blobs import BlobStore
from core.errors import InternalError
from core.events import ConversationRef, Reply
from core.logging import get_logger

_log = get_logger("adapters.teams.io")

TYPING: ActivityJson = {"type": ActivityTypes.typing}


async def post_activities(
    context: TurnContext, activities: Sequence[ActivityJson], retry: ConnectorRetry
) -> None:
    """Post in order inside a turn; each one retried on throttling only."""
    for number, payload in enumerate(activities, start=1):
        activity = Activity().deserialize(payload)
        await retry.call(partial(context.send_activity, activity), what=f"activity {number}")


class TeamsSender:
    """Replies and progress for the worker (and refusals for the turn)."""

    def __init__(
        self,
        adapter: CloudAdapterBase,
        *,
        app_id: str,
        references: ReferenceStore,
        retry: ConnectorRetry,
        blobs: BlobStore | None = None,
        typing_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._references = references
        self._retry = retry
        self._blobs = blobs
        self._typing_interval = typing_interval
        self._clock = clock
        self._typed: OrderedDict[str, float] = OrderedDict()

    @property
    def retry(self) -> ConnectorRetry:
        return self._retry

    async def send(self, reply: Reply) -> None:
        activities = await self.activities(reply)
        await self._continue(reply.conversation, activities, retried=True)
        _log.info("teams.reply.sent", key=reply.idempotency_key, activities=len(activities))

    async def progress(self, conversation: ConversationRef, key: str, text: str) -> None:
        now = self._clock()
        last = self._typed.get(key)
        if last is not None and now - last < self._typing_interval:
            return
        self._typed[key] = now
        while len(self._typed) > 1000:  # jobs that crashed never say goodbye
            self._typed.popitem(last=False)
        await self._continue(conversation, [TYPING], retried=False)

    async def activities(self, reply: Reply) -> list[ActivityJson]:
        """The reply as activity JSON, with chart bytes read and fitted."""
        out: list[ActivityJson] = []
        for post in render_reply(reply):
            if isinstance(post, ImagePost):
                # Pillow is CPU work: keep the worker's loop (and its heartbeats) free.
                png = await asyncio.to_thread(fit_png, await self._image_bytes(post))
                out.append(image_activity(png, name=post.segment.file_name, alt=post.segment.alt))
            else:
                out.append(post)
        return out

    async def _image_bytes(self, post: ImagePost) -> bytes:
        inline = post.segment.inline_bytes()
        if inline is not None:
            return inline
        if self._blobs is None or post.segment.blob_key is None:
            raise InternalError("reply image is in the blob store but the sender has none")
        return await self._blobs.get(post.segment.blob_key)

    async def _continue(
        self, conversation: ConversationRef, activities: list[ActivityJson], *, retried: bool
    ) -> None:
        conversation_id = conversation.data.get("conversation_id")
        if not isinstance(conversation_id, str):
            raise InternalError("Teams reply without a conversation id")
        reference = await self._references.load(conversation.workspace_id, conversation_id)
        message_id = conversation.data.get("message_id")
        retry = self._retry if retried else ConnectorRetry(attempts=1)

        async def deliver(context: TurnContext) -> None:
            # The continuation event has a random id; answer the asker's message instead.
            context.activity.id = message_id if isinstance(message_id, str) else None
            await post_activities(context, activities, retry)

        await self._adapter.continue_conversation(reference, deliver, bot_app_id=self._app_id)
