"""The analysis agents: router, analyst (spec → code), follow-ups, reviewer, narrative.

The pipeline calls :class:`Analyst` for data questions and chart follow-ups and
:func:`route_message` to decide which kind of message it got. See ``analyst.py`` for
the escalation order and the errors that signal a failure to the caller.
"""

from __future__ import annotations

from core.agents.analyst import Analyst
from core.agents.calls import LLMSession
from core.agents.followups import apply_followup, looks_like_followup
from core.agents.review import review, with_caveats
from core.agents.routing import Route, RouteKind, classify_message, route_message

__all__ = [
    "Analyst",
    "LLMSession",
    "Route",
    "RouteKind",
    "apply_followup",
    "classify_message",
    "looks_like_followup",
    "review",
    "route_message",
    "with_caveats",
]
