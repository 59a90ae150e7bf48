"""The gateway client: slash commands, @mentions and replies in Nexus's threads.

``AutoShardedClient`` asks REST ``GET /gateway/bot`` for the gateway URL (and the
shard count), so pointing REST at ``DISCORD_API_URL`` is the only knob tests need.

A command is deferred first (Discord's 3 s deadline; discord.py's ``defer`` is one
callback request) and accepted after, so the worker can never edit ``@original``
before it exists. A redelivered interaction (gateway RESUME replay) fails the defer
with 40060 "already acknowledged"; it is still handed to ``accept``, which reports
the duplicate, and nothing more is posted. The gateway cannot retry, so when
``accept`` fails the user gets an apology instead of an endless "thinking…".
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import build_commands
from adapters.discord.convert import MessageFacts, interaction_to_inbound, message_to_inbound
from core.events import Inbound, Reply
from core.logging import bind_inbound, get_logger
from core.ports import Intake, ReplySender

log = get_logger("adapters.discord.gateway")

ALREADY_ACKNOWLEDGED = 40060
APOLOGY = "Sorry, I couldn't take that request just now. Please try again in a moment."
NOTHING_TO_DO = "Nothing for me to do here."


def wire_payload(interaction: discord.Interaction) -> dict[str, Any]:
    """The interaction in Discord's wire shape (discord.py keeps ``data`` raw, not the rest)."""
    user = interaction.user
    payload: dict[str, Any] = {
        "id": str(interaction.id),
        "application_id": str(interaction.application_id),
        "type": interaction.type.value,
        "token": interaction.token,
        "channel_id": str(interaction.channel_id),
        "data": interaction.data or {},
        "attachment_size_limit": interaction.filesize_limit,
        "user": {"id": str(user.id), "username": user.name, "global_name": user.global_name},
    }
    if interaction.guild_id is not None:
        payload["guild_id"] = str(interaction.guild_id)
    channel = interaction.channel
    if isinstance(channel, discord.Thread):
        payload["channel"] = {
            "id": str(channel.id),
            "type": channel.type.value,
            "parent_id": str(channel.parent_id),
        }
    return payload


def message_facts(message: discord.Message, bot_id: int) -> MessageFacts:
    channel = message.channel
    thread = channel if isinstance(channel, discord.Thread) else None
    return MessageFacts(
        message_id=str(message.id),
        channel_id=str(channel.id),
        guild_id=str(message.guild.id) if message.guild else None,
        author_id=str(message.author.id),
        author_name=message.author.global_name or message.author.name,
        content=message.content,
        bot_id=str(bot_id),
        mentions_bot=any(user.id == bot_id for user in message.mentions),
        thread_parent_id=str(thread.parent_id) if thread else None,
        thread_owner_id=str(thread.owner_id) if thread and thread.owner_id else None,
        attachments=tuple(a.to_dict() for a in message.attachments),
    )


class NexusGateway(discord.AutoShardedClient):
    """discord.py client that turns commands and addressed messages into ``Inbound``."""

    def __init__(
        self,
        *,
        intake: Intake,
        sender: ReplySender,
        message_content: bool = True,
        sync_commands: bool = True,
        command_guild_id: int | None = None,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # thread owners come with guild and thread events
        intents.guild_messages = True
        intents.dm_messages = True
        # Privileged: needed to read replies in Nexus's threads that do not mention it.
        intents.message_content = message_content
        super().__init__(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            # How long READY waits for more GUILD_CREATEs; tests have just one guild.
            guild_ready_timeout=guild_ready_timeout,
        )
        self._intake = intake
        self._sender = sender
        self._sync = sync_commands
        self._guild = discord.Object(command_guild_id) if command_guild_id else None
        self.tree: app_commands.CommandTree[NexusGateway] = app_commands.CommandTree(self)
        for command in build_commands(self.on_command):
            self.tree.add_command(command, guild=self._guild)

    async def setup_hook(self) -> None:
        if self._sync:
            # A guild sync is instant (development); a global one reaches every guild.
            synced = await self.tree.sync(guild=self._guild)
            log.info("discord_commands_synced", count=len(synced), guild=bool(self._guild))

    async def on_command(self, interaction: discord.Interaction) -> None:
        payload = wire_payload(interaction)
        inbound = interaction_to_inbound(payload)
        bind_inbound(inbound)
        deferred = await self._defer(interaction)
        await self._accept(inbound, answer_failures=deferred)

    async def _defer(self, interaction: discord.Interaction) -> bool:
        try:
            await interaction.response.defer(thinking=True)
        except discord.HTTPException as exc:
            # 40060: a redelivery of an interaction we already acked. 10062: the
            # token died (we were slower than 3 s); the worker falls back to the channel.
            log.info("discord_defer_failed", status=exc.status, code=exc.code)
            return False
        return True

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        inbound = message_to_inbound(message_facts(message, self.user.id))
        if inbound is None:
            return
        bind_inbound(inbound)
        await self._accept(inbound, answer_failures=True)

    async def _accept(self, inbound: Inbound, *, answer_failures: bool) -> None:
        try:
            acceptance = await self._intake.accept(inbound)
        except Exception:
            log.exception("discord_accept_failed", event_id=inbound.event_id)
            if answer_failures:
                await self._note(inbound, APOLOGY, "failed")
            return
        log.info("discord_accepted", kind=acceptance.kind, command=inbound.command)
        if acceptance.kind == "replied" and acceptance.reply is not None:
            await self._post(acceptance.reply)
        elif acceptance.kind == "ignored" and inbound.command and answer_failures:
            # A deferred command must not stay "thinking…" forever.
            await self._note(inbound, NOTHING_TO_DO, "ignored")

    async def _note(self, inbound: Inbound, text: str, tag: str) -> None:
        key = f"discord:{tag}:{inbound.event_id}"
        await self._post(Reply.from_text(inbound.conversation(), text, idempotency_key=key))

    async def _post(self, reply: Reply) -> None:
        try:
            await self._sender.send(reply)
        except Exception:
            log.exception("discord_reply_failed", key=reply.idempotency_key)
