"""The Teams adapter (botbuilder-core ``CloudAdapter``): mentions, files, charts back.

Read in this order: :mod:`.convert` (activity JSON → ``Inbound``), :mod:`.endpoint`
(``POST /api/messages``: authenticate, then run the turn), :mod:`.turn` (store the
conversation reference, ``Intake.accept``, typing), :mod:`.render` (``Reply`` →
activities: text or an Adaptive Card, then charts), :mod:`.io` (the proactive
sender) and :mod:`.fetch` (file downloads). Around them: :mod:`.auth` (JWT
validation and outbound tokens from settings), :mod:`.references` (stored
conversation references), :mod:`.retry` (connector backoff), :mod:`.images` (Teams'
image limits) and :mod:`.plugin` (the ``bot.platforms`` hook). Nothing outside this
package imports botbuilder, so the SDK can be swapped for its successor (the
Microsoft 365 Agents SDK) here alone.
"""

from __future__ import annotations

from adapters.teams.plugin import TeamsPlugin, platform_plugin

__all__ = ["TeamsPlugin", "platform_plugin"]
