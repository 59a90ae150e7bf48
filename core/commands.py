"""Chat commands every platform gets: help, datasets, forget, usage, quota, role, stop.

Parsed here from the message text (after the bot's mention) or a slash command's
name; answered at once by :class:`core.chat_commands.ChatCommands` inside the
conversation manager's transaction, without a job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COMMANDS = frozenset({"help", "datasets", "forget", "usage", "quota", "role", "stop"})

# Leading mentions of the bot: Slack <@U123>, Discord <@123> / <@!123>, Teams <at>Nexus</at>.
_LEADING_MENTIONS = re.compile(r"^\s*(?:(?:<@[!&]?[\w.-]+>|<at>[^<]*</at>)[\s,:]*)+")
_USER = re.compile(r"^<@!?([\w.-]+)>$|^@?([\w.:-]+)$")

HELP = """I answer questions about data files shared in this thread.
• Upload a CSV, Excel, JSON or Parquet file, then ask, e.g. “average tip by day”.
• `datasets`: the files this thread knows
• `forget`: drop this thread's files
• `usage`: what this workspace used today and this month
• `quota`: the limits and when they reset
• `role @user ROLE`: set someone's role (owner, admin, analyst, viewer)
• `stop`: cancel the question I am working on"""


def strip_mentions(text: str) -> str:
    """The message without the bot's leading @mention(s)."""
    return _LEADING_MENTIONS.sub("", text).strip()


@dataclass(frozen=True)
class Command:
    name: str
    args: list[str] = field(default_factory=list)


def parse_command(text: str, slash: str | None = None) -> Command | None:
    """``role <@U2> admin`` → ``Command("role", ["<@U2>", "admin"])``; None for a question.

    Single-word commands must be the whole message, so "help me read this chart" is
    a question, not a command. An empty message (a bare mention) asks for help.
    """
    words = strip_mentions(text).split()
    if slash is not None and slash.lower() in COMMANDS:
        return Command(slash.lower(), words)
    if not words:
        return None
    head = words[0].lower().rstrip("!.?")
    if head == "role" and len(words) <= 3:
        return Command("role", words[1:])
    if head in COMMANDS and len(words) == 1:
        return Command(head)
    return None


def user_id_of(token: str) -> str | None:
    """``<@U2>``, ``<@!42>``, ``@U2`` or ``U2`` → the user id."""
    match = _USER.match(token)
    return None if match is None else (match.group(1) or match.group(2))
