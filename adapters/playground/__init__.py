"""The playground: a local web chat at ``/`` of ``nexus dev``, a fourth adapter.

It goes through the same conversation manager, queue, worker and reply path as
Slack, Discord and Teams; only the "platform" is local. Read in this order:
:mod:`.convert` (form → ``Inbound``, ``Reply`` → page entries), :mod:`.uploads`
(files into the blob store), :mod:`.routes` (the page and its JSON API),
:mod:`.store` (threads in Redis or in-process fakeredis), :mod:`.io` (the worker's
sender and fetcher), :mod:`.usage` (the usage panel) and :mod:`.plugin` (wiring).
The page itself is ``static/`` (plain HTML, CSS, JS; no build step).
"""

from __future__ import annotations

from adapters.playground.plugin import PlaygroundPlugin, platform_plugin

__all__ = ["PlaygroundPlugin", "platform_plugin"]
