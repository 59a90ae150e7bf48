"""Passages to an answer with numbered references, or an honest "not found".

With an LLM, the model answers from the numbered passages only and cites them as
``[n]``; the references it used are renumbered in order of first mention. Without one
(or when every provider is down), the best passages are the answer, quoted. Either
way nothing is claimed without a source, and no passages means "not found".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.agents.calls import LLMSession
from core.agents.prompts import DATA_RULE, data_block
from core.answer import LLMCall
from core.errors import ProviderUnavailableError
from core.events import Citation
from core.llm.types import ChatMessage, ResponseSchema
from core.retrieval.search import Passage
from core.retrieval.terms import STOP_WORDS

NOT_FOUND = (
    "I couldn't find anything about that in the documents shared here, so I won't guess. "
    "Try other words, or upload the document that covers it."
)
QUOTE_CHARS = 240
_MARKER = re.compile(r"\[(\d{1,2})\]")
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

SYSTEM = f"""You answer questions for a team using only the numbered passages from \
documents they shared. Rules:
- Use only facts stated in the passages; never use outside knowledge or guess.
- Cite each claim with the passage number in square brackets, e.g. [2]; list every \
passage you cited in "sources".
- If the passages do not answer the question, set "found" to false and say briefly \
that the documents do not cover it.
- Be concise: a few sentences.
Reply with the JSON object only. {DATA_RULE}"""

_SCHEMA = ResponseSchema(
    name="cited_answer",
    json_schema={
        "type": "object",
        "properties": {
            "found": {"type": "boolean"},
            "answer": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["found", "answer", "sources"],
        "additionalProperties": False,
    },
    strict=True,
)


@dataclass(frozen=True)
class CitedAnswer:
    text: str
    citations: list[Citation]
    found: bool
    method: Literal["llm", "extractive"]
    llm_calls: list[LLMCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def quote(text: str, question: str, limit: int = QUOTE_CHARS) -> str:
    """The sentence of ``text`` sharing most words with ``question``, cut to ``limit``."""
    wanted = set(_WORD.findall(question.lower())) - STOP_WORDS
    sentences = [s for s in _SENTENCE.split(text) if s.strip()] or [text]
    best = max(sentences, key=lambda s: len(wanted & set(_WORD.findall(s.lower()))))
    best = best.strip()
    return best if len(best) <= limit else best[: limit - 1].rstrip() + "…"


def _citation(passage: Passage, question: str) -> Citation:
    return Citation(
        title=passage.file_name, location=passage.location, snippet=quote(passage.text, question)
    )


def extractive_answer(
    question: str, passages: Sequence[Passage], *, notes: Sequence[str] = ()
) -> CitedAnswer:
    """The passages themselves, numbered and quoted: the answer when no LLM writes one."""
    if not passages:
        return CitedAnswer(NOT_FOUND, [], found=False, method="extractive", notes=list(notes))
    citations = [_citation(p, question) for p in passages]
    lines = ["The most relevant passages in the documents shared here:"]
    for number, (passage, cite) in enumerate(zip(passages, citations, strict=True), 1):
        where = f", {passage.location}" if passage.location else ""
        lines.append(f"[{number}] “{cite.snippet}” ({passage.file_name}{where})")
    return CitedAnswer("\n".join(lines), citations, True, "extractive", notes=list(notes))


async def answer_from_passages(
    question: str, passages: Sequence[Passage], *, llm: LLMSession | None
) -> CitedAnswer:
    if llm is None or not passages:
        return extractive_answer(question, passages)
    payload = [
        {"n": n, "file": p.file_name, "location": p.location, "text": p.text}
        for n, p in enumerate(passages, 1)
    ]
    messages = [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(
            role="user",
            content=f"{data_block('passages', payload)}\n\n{data_block('question', question)}",
        ),
    ]
    try:
        response = await llm.chat("documents", messages, response_schema=_SCHEMA, max_tokens=600)
    except ProviderUnavailableError:
        note = "No AI provider answered, so these are the closest passages."
        return extractive_answer(question, passages, notes=[note])
    parsed = response.parsed or {}
    answer = str(parsed.get("answer") or "").strip()
    if not parsed.get("found") or not answer:
        return CitedAnswer(NOT_FOUND, [], False, "llm", llm_calls=list(llm.calls))
    text, used = renumber(answer, parsed.get("sources") or [], len(passages))
    if not used:  # an answer citing nothing is not grounded enough to post as fact
        return extractive_answer(question, passages, notes=["The model cited no passage."])
    citations = [_citation(passages[n - 1], question) for n in used]
    return CitedAnswer(text, citations, True, "llm", llm_calls=list(llm.calls))


def renumber(text: str, sources: Sequence[object], available: int) -> tuple[str, list[int]]:
    """Markers renumbered 1..k by first mention (then unmentioned ``sources``); markers
    that point at no passage are dropped. Returns the text and the old numbers used."""
    order: list[int] = []
    mentioned = [int(m) for m in _MARKER.findall(text)]
    listed = [int(s) for s in sources if isinstance(s, int | str) and str(s).isdigit()]
    for number in [*mentioned, *listed]:
        if 1 <= number <= available and number not in order:
            order.append(number)
    new = {old: index for index, old in enumerate(order, 1)}

    def replace(match: re.Match[str]) -> str:
        old = int(match.group(1))
        return f"[{new[old]}]" if old in new else ""

    return re.sub(r"\s+([.,;])", r"\1", _MARKER.sub(replace, text)).strip(), order
