"""``POST /discord/interactions``: slash commands delivered over HTTP (no gateway).

discord.py is gateway-only, so this receiver is ours. Every request is checked
with Ed25519 (PyNaCl) over ``X-Signature-Timestamp + body`` against the app's
public key; a missing or bad signature gets 401, as Discord requires, and so does a
timestamp outside ±5 minutes (Discord documents no replay window; this is our
policy against replays of captured requests).

The response is the ack: the command is accepted (dedupe, record, enqueue) first,
then answered ``{"type": 5}`` (deferred; the worker edits ``@original``). If
``accept`` raises, the response is a 500 so no accepted question is silently lost.
A reply the core produced at once (``/nexus help``) is returned inline as type 4
when it is one message without files; otherwise it is posted right after the ack.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from adapters.discord.convert import interaction_to_inbound
from adapters.discord.render import OutMessage, render_reply
from core.events import FileSegment, ImageSegment, Reply
from core.logging import bind_inbound, get_logger
from core.ports import Intake, ReplySender

log = get_logger("adapters.discord.interactions")

MAX_SKEW_SECONDS = 300.0
PING, APPLICATION_COMMAND, AUTOCOMPLETE = 1, 2, 4
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, AUTOCOMPLETE_RESULT = 1, 4, 5, 8
EPHEMERAL = 64


def inline_message(message: OutMessage) -> dict[str, Any]:
    """A rendered message as interaction-response ``data`` (no files)."""
    data: dict[str, Any] = {"embeds": message.embeds, "allowed_mentions": {"parse": []}}
    if message.content:
        data["content"] = message.content
    return data


class InteractionsEndpoint:
    """The aiohttp handler; one per app, holding the key, the intake and the sender."""

    def __init__(
        self,
        *,
        public_key: str,
        intake: Intake,
        sender: ReplySender,
        clock: Callable[[], float] = time.time,
        max_skew: float = MAX_SKEW_SECONDS,
    ) -> None:
        self._key = VerifyKey(bytes.fromhex(public_key))
        self._intake = intake
        self._sender = sender
        self._clock = clock
        self._max_skew = max_skew
        self._tasks: set[asyncio.Task[None]] = set()

    def verified(self, signature: str, timestamp: str, body: bytes) -> bool:
        try:
            sent_at = int(timestamp)
            self._key.verify(timestamp.encode() + body, bytes.fromhex(signature))
        except (BadSignatureError, ValueError):
            return False
        return abs(self._clock() - sent_at) <= self._max_skew

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get("X-Signature-Ed25519", "")
        timestamp = request.headers.get("X-Signature-Timestamp", "")
        if not signature or not timestamp or not self.verified(signature, timestamp, body):
            log.info("discord_interaction_rejected", has_signature=bool(signature))
            return web.json_response({"error": "invalid request signature"}, status=401)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            return web.json_response({"error": "body is not JSON"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "body is not a JSON object"}, status=400)
        kind = payload.get("type")
        if kind == PING:
            return web.json_response({"type": PONG})
        if kind == AUTOCOMPLETE:
            return web.json_response({"type": AUTOCOMPLETE_RESULT, "data": {"choices": []}})
        if kind != APPLICATION_COMMAND:
            note = {"content": "Nexus does not handle that action.", "flags": EPHEMERAL}
            return web.json_response({"type": CHANNEL_MESSAGE, "data": note})
        return await self._command(payload)

    async def _command(self, payload: dict[str, Any]) -> web.Response:
        try:
            inbound = interaction_to_inbound(payload)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Malformed: a retry would fail the same way, so 400 rather than 500.
            log.info("discord_interaction_malformed", error=type(exc).__name__)
            return web.json_response({"error": "malformed interaction"}, status=400)
        bind_inbound(inbound)
        try:
            acceptance = await self._intake.accept(inbound)
        except Exception:
            # Not acked: the user sees Discord's own failure instead of a silent drop.
            log.exception("discord_accept_failed", interaction_id=inbound.event_id)
            return web.json_response({"error": "could not accept"}, status=500)
        log.info("discord_interaction_accepted", kind=acceptance.kind, command=inbound.command)
        reply = acceptance.reply
        if acceptance.kind == "replied" and reply is not None:
            has_files = any(isinstance(s, ImageSegment | FileSegment) for s in reply.segments)
            messages = [] if has_files else render_reply(reply)
            if len(messages) == 1:
                data = inline_message(messages[0])
                return web.json_response({"type": CHANNEL_MESSAGE, "data": data})
            self._post_later(reply)
        return web.json_response({"type": DEFERRED_CHANNEL_MESSAGE})

    def _post_later(self, reply: Reply) -> None:
        # Runs after the type-5 response is on its way; the sender edits @original.
        task = asyncio.create_task(self._post(reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, reply: Reply) -> None:
        try:
            await self._sender.send(reply)
        except Exception:
            log.exception("discord_reply_failed", key=reply.idempotency_key)

    async def aclose(self) -> None:
        """Wait for replies still being posted (app shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
