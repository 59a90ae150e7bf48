"""The Discord adapter (discord.py): slash commands with files, mentions, charts back.

Read in this order: :mod:`.convert` (interaction / message → ``Inbound``),
:mod:`.gateway` and :mod:`.commands` (the discord.py client: defer, then
``Intake.accept``), :mod:`.interactions` (the signed HTTP endpoint),
:mod:`.render` (``Reply`` → Discord messages as data), :mod:`.io` (the sender),
:mod:`.fetch` (attachment downloads) and :mod:`.routes` (the plugin wiring it all
from settings). Nothing outside this package imports discord.py or PyNaCl.
"""

from __future__ import annotations

from adapters.discord.routes import DiscordPlugin, platform_plugin

__all__ = ["DiscordPlugin", "platform_plugin"]
