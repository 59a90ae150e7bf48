"""Passages from the thread's documents that an analysis may rely on.

A question like "average tip of large parties by day" can hinge on a definition that
lives in an uploaded policy ("a large party is five or more people"). The analyst
hands such passages to the model as data, next to the dataset profiles, and names
them on the receipt so the user can see where a definition came from.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    source: str
    """Where the passage is: file name, then page or section when known."""
    text: str


ReferenceLookup = Callable[[str], Awaitable[Sequence[Reference]]]
"""The passages relevant to a question; only called when the LLM is about to be asked,
so questions the deterministic planner answers pay no document search."""


def references_note(references: Sequence[Reference]) -> str | None:
    """The receipt line naming the documents the model was shown, or None."""
    sources = list(dict.fromkeys(r.source for r in references))
    if not sources:
        return None
    return "Context from the thread's documents: " + "; ".join(sources) + "."
