"""An optional LLM-written narrative, accepted only if it states the computed numbers.

The deterministic ``compose_text`` stays the default. When a deployment turns this
on, the model sees the question and the computed result (in data blocks) and writes
two or three sentences; the text is used only if every number in it matches a number
of the result, and it contains no links, mentions or markup that a chat platform
would act on. Otherwise the deterministic text stands.
"""

from __future__ import annotations

import math
import re
from typing import Any

from core.agents.calls import LLMSession
from core.agents.prompts import DATA_RULE, data_block, quoted_question
from core.answer import Answer
from core.llm.types import ChatMessage

NARRATIVE_SYSTEM = f"""You write the answer Nexus, a data analyst, posts in a chat \
thread. In two or three plain sentences, answer the question from the computed result. \
State only numbers that appear in the result, rounded as shown there. No links, no \
mentions, no markdown headings. {DATA_RULE}"""

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_FORBIDDEN = re.compile(r"https?://|www\.|<[@!#]|@(here|channel|everyone)|```|\[.*\]\(", re.I)
_MAX_CHARS = 600
_MAX_NUMBERS = 2000


def _result_numbers(answer: Answer) -> list[float]:
    found: list[float] = []
    if isinstance(answer.result.value, int | float):
        found.append(float(answer.result.value))
    for row in answer.result.rows:
        for cell in row:
            if isinstance(cell, int | float) and not isinstance(cell, bool):
                found.append(float(cell))
            elif isinstance(cell, str):
                found.extend(_parse(m) for m in _NUMBER.findall(cell))
    found += [float(answer.receipt.rows_in), float(answer.receipt.rows_used)]
    return [n for n in found[:_MAX_NUMBERS] if math.isfinite(n)]


def _parse(text: str) -> float:
    return float(text.replace(",", ""))


def _matches(stated: float, known: list[float], decimals: int) -> bool:
    # "0.11" states 0.105 rounded to two places; allow half a unit of the last digit.
    slack = 0.5 * 10**-decimals + 1e-9
    return any(
        abs(stated - n) <= max(slack, 0.005 * abs(n)) or abs(stated - n * 100) <= slack
        for n in known
    )


def numbers_check(text: str, answer: Answer, question: str) -> bool:
    """True when every number in ``text`` is one of the result's (or the question's)."""
    known = _result_numbers(answer) + [_parse(m) for m in _NUMBER.findall(question)]
    for match in _NUMBER.findall(text):
        decimals = len(match.split(".")[1]) if "." in match else 0
        if not _matches(_parse(match), known, decimals):
            return False
    return True


def _result_view(answer: Answer) -> dict[str, Any]:
    result = answer.result
    return {
        "kind": result.kind,
        "value": result.value,
        "columns": result.columns,
        "rows": result.rows[:30],
        "rows_total": answer.receipt.rows_total,
        "computed_from_rows": answer.receipt.rows_used,
        "notes": answer.receipt.notes,
    }


async def narrate(llm: LLMSession, question: str, answer: Answer) -> str | None:
    """A checked narrative for ``answer``, or ``None`` to keep the deterministic text."""
    body = "\n\n".join(
        [
            quoted_question(question),
            "The computed result:",
            data_block("result", _result_view(answer)),
        ]
    )
    response = await llm.chat(
        "narrative",
        [
            ChatMessage(role="system", content=NARRATIVE_SYSTEM),
            ChatMessage(role="user", content=body),
        ],
        max_tokens=300,
    )
    text = " ".join(response.text.split())
    if not text or len(text) > _MAX_CHARS or _FORBIDDEN.search(text):
        return None
    return text if numbers_check(text, answer, question) else None
