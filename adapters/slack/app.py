"""The bolt app: Slack events and ``/nexus`` in, ``Intake.accept`` out, ack.

Bolt verifies the signature (and answers URL verification) before any listener
runs. Listeners then normalize the payload (:mod:`.convert`) and call
``Intake.accept``, which dedupes, checks roles and quotas, records and enqueues
(no Slack calls). The app runs with ``process_before_response=True`` so the HTTP
answer (or Socket Mode ack) is sent *after* ``accept`` returns: if the core cannot
record or enqueue, the listener raises, Slack gets a 500 and retries, and no
accepted event is ever dropped. ``accept`` gets at most ``accept_timeout`` seconds
so the answer still beats Slack's 3-second deadline. Everything that talks back to
Slack (a refusal, the "working" reaction) runs after the ack, in the background.

Events we listen to:

- ``app_mention``: always addressed;
- ``message``: direct messages, messages that tag Nexus (the twin of an
  ``app_mention``; the core dedupes the pair on channel + ts), replies in threads
  Nexus is answering (follow-ups, no mention needed), and file uploads: an upload
  that does not address Nexus is kept for its thread and attached to the next
  addressed message there (:mod:`.threads`). Other bots, edits and joins are ignored;
- ``/nexus <command>``: passed through with ``command`` set; the core's answer is
  the ephemeral response in the ack itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncBoltRequest
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.convert import (
    command_to_inbound,
    event_to_inbound,
    in_thread,
    mentions_someone_else,
    message_intent,
    thread_root,
)
from adapters.slack.io import SlackSender
from adapters.slack.render import MAX_BLOCKS, PostMessage, render_reply
from adapters.slack.threads import ThreadMemory
from core.events import FileRef, Inbound
from core.logging import bind_inbound, get_logger
from core.ports import Acceptance, Intake

_log = get_logger("adapters.slack.app")

COMMAND = "/nexus"
COMMAND_UNAVAILABLE = "Nexus could not take that command right now. Please try again in a minute."


class SlackListeners:
    """The listener functions, holding what they need (no globals)."""

    def __init__(
        self,
        intake: Intake,
        sender: SlackSender,
        memory: ThreadMemory,
        *,
        accept_timeout: float = 2.0,
    ) -> None:
        self._intake = intake
        self._sender = sender
        self._memory = memory
        self._timeout = accept_timeout
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_app_mention(
        self, body: dict[str, Any], context: AsyncBoltContext, request: AsyncBoltRequest
    ) -> None:
        await self._handle_event(body, context, request, follow_up=False)

    async def on_message(
        self, body: dict[str, Any], context: AsyncBoltContext, request: AsyncBoltRequest
    ) -> None:
        event = body["event"]
        bot = context.bot_user_id
        intent = message_intent(event, bot)
        if intent in ("direct", "mention"):
            await self._handle_event(body, context, request, follow_up=False)
            return
        if intent is None:
            return
        team, channel, root = _thread_of(body)
        talk = mentions_someone_else(str(event.get("text") or ""), bot)
        if in_thread(event) and not talk and await self._memory.is_answered(team, channel, root):
            await self._handle_event(body, context, request, follow_up=True)
        elif intent == "upload":
            files = event_to_inbound(body, bot_user_id=bot).files
            await self._memory.add_uploads(team, channel, root, files)
            _log.info("slack.upload.pending", event_id=body.get("event_id"), files=len(files))

    async def on_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        inbound = command_to_inbound(body)
        bind_inbound(inbound)
        try:
            acceptance = await self._accept(inbound, [])
        except Exception:
            # Slack never retries a slash command: say so instead of a 500.
            _log.exception("slack.command.failed", event_id=inbound.event_id)
            await ack(text=COMMAND_UNAVAILABLE, response_type="ephemeral")
            return
        _log.info("slack.command.accepted", event_id=inbound.event_id, kind=acceptance.kind)
        if acceptance.kind == "replied" and acceptance.reply is not None:
            messages = [c for c in render_reply(acceptance.reply) if isinstance(c, PostMessage)]
            blocks = [block for message in messages for block in message.blocks][:MAX_BLOCKS]
            text = messages[0].text if messages else acceptance.reply.text
            await ack(text=text, blocks=blocks or None, response_type="ephemeral")
        elif acceptance.kind == "enqueued":
            await ack(text="Working on it…", response_type="ephemeral")
        else:
            await ack()

    async def _handle_event(
        self,
        body: dict[str, Any],
        context: AsyncBoltContext,
        request: AsyncBoltRequest,
        *,
        follow_up: bool,
    ) -> None:
        try:
            inbound = event_to_inbound(body, bot_user_id=context.bot_user_id, follow_up=follow_up)
        except (KeyError, TypeError, ValueError) as exc:
            # Signed but malformed: acked (200), as a retry would fail the same way.
            _log.warning("slack.event.malformed", error=type(exc).__name__)
            return
        bind_inbound(inbound)
        pending: list[FileRef] = []
        if inbound.thread_id is not None and not inbound.direct:
            pending = await self._memory.take_uploads(*_thread_of(body))
            known = {f.id for f in inbound.files}
            pending = [f for f in pending if f.id not in known]
            inbound = inbound.model_copy(update={"files": [*pending, *inbound.files]})
        retries = request.headers.get("x-slack-retry-num") or []
        acceptance = await self._accept(inbound, pending)
        _log.info(
            "slack.event.accepted",
            event_id=inbound.event_id,
            event_type=body["event"].get("type"),
            kind=acceptance.kind,
            retry=retries[0] if retries else None,
            files=len(inbound.files),
        )
        self._spawn(self._after_ack(inbound, acceptance, pending))

    async def _accept(self, inbound: Inbound, pending: list[FileRef]) -> Acceptance:
        """``accept`` within the ack budget. On timeout Slack gets a 500 and retries,
        while the call itself carries on (shielded): if it does enqueue, the retry is
        a duplicate and the follow-up work still happens."""
        task = asyncio.ensure_future(self._intake.accept(inbound))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._timeout)
        except TimeoutError:
            _log.warning("slack.accept.slow", event_id=inbound.event_id, budget=self._timeout)
            self._spawn(self._finish_late(task, inbound, pending))
            raise
        except Exception:
            await self._give_back(inbound, pending)
            raise

    async def _finish_late(
        self, task: asyncio.Future[Acceptance], inbound: Inbound, pending: list[FileRef]
    ) -> None:
        try:
            acceptance = await task
        except Exception:
            await self._give_back(inbound, pending)
            raise
        await self._after_ack(inbound, acceptance, pending)

    async def _after_ack(
        self, inbound: Inbound, acceptance: Acceptance, pending: list[FileRef]
    ) -> None:
        conversation = inbound.conversation()
        if acceptance.kind != "enqueued":
            await self._give_back(inbound, pending)
        if acceptance.kind == "enqueued":
            if inbound.thread_id is not None and not inbound.direct:
                await self._memory.remember_answered(
                    inbound.workspace_id, inbound.channel_id, inbound.thread_id
                )
            await self._sender.acknowledge(conversation)
        elif acceptance.kind == "replied" and acceptance.reply is not None:
            await self._sender.send(acceptance.reply)

    async def _give_back(self, inbound: Inbound, pending: list[FileRef]) -> None:
        """Files taken from the thread go back if this message did not use them."""
        if pending and inbound.thread_id is not None:
            await self._memory.add_uploads(
                inbound.workspace_id, inbound.channel_id, inbound.thread_id, pending
            )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(self._guarded(work))
        self._tasks.add(task)  # keep a reference until done (asyncio holds weak ones)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            _log.exception("slack.after_ack.failed")

    async def drain(self) -> None:
        """Wait for background work (posting refusals, reactions) to finish."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def ignore_event() -> None:
    """Acked and dropped."""


def _thread_of(body: dict[str, Any]) -> tuple[str, str, str]:
    """(team, channel, thread root) of an event callback."""
    event = body["event"]
    team = str(body.get("team_id") or event.get("team"))
    return team, str(event["channel"]), thread_root(event)


def build_app(
    listeners: SlackListeners,
    *,
    client: AsyncWebClient,
    signing_secret: str,
    oauth_settings: AsyncOAuthSettings | None = None,
    installation_store: AsyncInstallationStore | None = None,
    authorize: AsyncAuthorize | None = None,
) -> AsyncApp:
    """The bolt app. Without OAuth, ``client`` carries the single workspace's token;
    with it, bolt finds each team's token through ``installation_store``."""
    app = AsyncApp(
        name="nexus",
        client=client,
        signing_secret=signing_secret,
        process_before_response=True,
        oauth_settings=oauth_settings,
        installation_store=installation_store,
        installation_store_bot_only=True if installation_store is not None else None,
        authorize=authorize,  # type: ignore[arg-type]  # bolt accepts AsyncAuthorize too
        logger=logging.getLogger("adapters.slack.bolt"),
    )
    app.event("app_mention")(listeners.on_app_mention)
    app.event("message")(listeners.on_message)
    app.command(COMMAND)(listeners.on_command)
    if installation_store is not None:
        # app_uninstalled / tokens_revoked delete the stored installation.
        app.enable_token_revocation_listeners()

    # Last, so it matches only what nothing above did: any other subscribed event
    # (reaction_added, member_joined_channel...) is acked 200, not bolt's 404, which
    # Slack would retry and eventually count against the app's subscription.
    app.event(re.compile(".*"))(ignore_event)

    @app.error
    async def log_error(error: Exception, body: dict[str, Any]) -> None:
        event_id = body.get("event_id") or body.get("trigger_id")
        _log.error("slack.listener.failed", event_id=event_id, error=type(error).__name__)

    return app
