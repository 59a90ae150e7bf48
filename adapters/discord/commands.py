"""The application commands Nexus registers: ``/ask``, ``/upload`` and ``/nexus …``.

The callbacks only hand the interaction to one handler: what the user asked is
read from the interaction's wire data by :func:`~adapters.discord.convert.interaction_to_inbound`,
the same converter the HTTP endpoint uses, so both transports behave alike. The
typed parameters exist for Discord's command definitions (option names, types,
descriptions and choices that ``CommandTree.sync`` uploads).

``/nexus`` subcommands become the text the core's command parser reads
(``/nexus role user:@bob role:analyst`` → ``role <@bob> analyst``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import discord
from discord import app_commands

Handler = Callable[[discord.Interaction], Awaitable[None]]
RoleName = Literal["owner", "admin", "analyst", "viewer"]


def build_commands(
    handle: Handler,
) -> list[app_commands.Command[Any, ..., Any] | app_commands.Group]:
    """The command definitions, each calling ``handle(interaction)``."""

    @app_commands.command(name="ask", description="Ask Nexus a question about your data")
    @app_commands.describe(question="What do you want to know?", file="A data file to analyse")
    async def ask(
        interaction: discord.Interaction, question: str, file: discord.Attachment | None = None
    ) -> None:
        await handle(interaction)

    @app_commands.command(name="upload", description="Give Nexus a data file for this channel")
    @app_commands.describe(file="CSV, Excel, JSON or Parquet")
    async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
        await handle(interaction)

    nexus = app_commands.Group(name="nexus", description="Nexus settings and help")

    def simple(name: str, description: str) -> None:
        async def callback(interaction: discord.Interaction) -> None:
            await handle(interaction)

        nexus.add_command(
            app_commands.Command(name=name, description=description, callback=callback)
        )

    simple("help", "What Nexus can do")
    simple("datasets", "The files this channel or thread knows")
    simple("usage", "What this workspace used today and this month")
    simple("quota", "Limits and when they reset")
    simple("forget", "Drop this channel's or thread's files")
    simple("stop", "Cancel the question Nexus is working on")

    @nexus.command(name="role", description="Show or set a member's role")
    @app_commands.describe(user="Whose role", role="The new role (leave empty to show it)")
    async def role(
        interaction: discord.Interaction,
        user: discord.User | None = None,
        role: RoleName | None = None,
    ) -> None:
        await handle(interaction)

    return [ask, upload, nexus]
