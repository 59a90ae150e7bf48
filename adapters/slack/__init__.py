"""The Slack adapter (slack-bolt, async): @mentions, files in threads, charts back.

Read in this order: :mod:`.convert` (Slack payload → ``Inbound``), :mod:`.app` (the
bolt listeners: normalize, ``Intake.accept``, ack), :mod:`.render` (``Reply`` →
Slack calls as data), :mod:`.io` (the sender and fetcher that make those calls).
Around them: :mod:`.threads` (answered threads, uploads waiting for a question),
:mod:`.clients` (Web API clients and tokens), :mod:`.install` (multi-workspace
OAuth), :mod:`.routes` (HTTP and Socket Mode), :mod:`.factory` (wiring from
settings) and :mod:`.plugin` (the ``bot.platforms`` hook). Nothing outside this
package imports a Slack SDK.
"""

from adapters.slack.plugin import platform_plugin

__all__ = ["platform_plugin"]
