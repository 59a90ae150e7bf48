"""The router agent: what kind of message is this?

Keyword rules decide almost every message with no LLM: commands (``core.commands``),
greetings and help, chart follow-ups (the follow-up grammar reads the whole message),
and data vs document questions from what the thread holds and the words used. Only
a message the rules cannot place confidently, with an LLM available, costs a call;
the model's answer is one label from a fixed list and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from core.agents.calls import LLMSession
from core.agents.followups import looks_like_followup
from core.agents.prompts import DATA_RULE, data_block
from core.commands import Command, parse_command, strip_mentions
from core.llm.types import ChatMessage, ResponseSchema

RouteKind = Literal["data_question", "document_question", "chart_followup", "command", "chitchat"]
ROUTE_KINDS: tuple[str, ...] = get_args(RouteKind)

_CHITCHAT = re.compile(
    r"^(hi|hello|hey|yo|hiya|thanks|thank you|thx|cheers|good (morning|afternoon|evening)"
    r"|how are you|who are you|what are you|what can you do|what do you do|how do (i|you) use"
    r"( you| this| nexus)?|help|help me|ok|okay|cool|great|nice)( nexus)?[!.?]*$",
    re.IGNORECASE,
)
_DATA_CUES = re.compile(
    r"\b(average|avg|mean|median|sum|total|count|how many|number of|per|trend|chart|plot"
    r"|graph|top|max|maximum|min|minimum|highest|lowest|most|least|correlat\w*|distribution"
    r"|regression|forecast|percent\w*|share|growth|compare|rows?|columns?|by \w+|group\w*"
    r"|std|variance|histogram|breakdown)\b",
    re.IGNORECASE,
)
_DOC_CUES = re.compile(
    r"\b(documents?|docs?|pdf|docx|report|policy|policies|contract|manual|handbook|memo"
    r"|according to|say about|says|cite|citations?|section|page|clause|paragraph|mention\w*"
    r"|summari[sz]e|what is our|what's our)\b",
    re.IGNORECASE,
)

ROUTE_SYSTEM = f"""You classify one chat message sent to Nexus, a data analyst bot, into \
exactly one kind:
- data_question: a question to answer from the thread's data files (tables).
- document_question: a question to answer from the thread's documents (PDF, Word).
- chart_followup: a change to the previous answer's chart or table (chart type, scale, \
filter, top-n, sorting).
- command: an administrative request (datasets, forget, usage, quota, role, stop).
- chitchat: greetings, thanks, or questions about Nexus itself.
Reply with the JSON object only. {DATA_RULE}"""

_SCHEMA = ResponseSchema(
    name="route",
    json_schema={
        "type": "object",
        "properties": {"kind": {"type": "string", "enum": list(ROUTE_KINDS)}},
        "required": ["kind"],
        "additionalProperties": False,
    },
    strict=True,
)


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    confident: bool
    """False when the rules guessed; the LLM (when configured) decided otherwise."""
    source: Literal["rules", "llm"] = "rules"
    command: Command | None = None


def classify_message(
    text: str, *, has_datasets: bool, has_previous_answer: bool, has_documents: bool = False
) -> Route:
    """The keyword rules alone."""
    command = parse_command(text)
    if command is not None:
        return Route("command", True, command=command)
    body = " ".join(strip_mentions(text).split())
    if not body or _CHITCHAT.match(body):
        return Route("chitchat", True)
    if has_previous_answer and looks_like_followup(body):
        return Route("chart_followup", True)
    data, docs = bool(_DATA_CUES.search(body)), bool(_DOC_CUES.search(body))
    if has_datasets and not has_documents:
        return Route("data_question", True)
    if has_documents and not has_datasets:
        return Route("document_question", True)
    if has_datasets and has_documents:
        if data != docs:
            return Route("data_question" if data else "document_question", True)
        return Route("data_question", False)
    # Nothing uploaded yet: a data-sounding question gets "attach a file" from the analyst.
    if data:
        return Route("data_question", True)
    return Route("document_question" if docs else "chitchat", False)


async def route_message(
    text: str,
    *,
    has_datasets: bool,
    has_previous_answer: bool,
    has_documents: bool = False,
    llm: LLMSession | None = None,
) -> Route:
    """Rules first; the LLM only for a message the rules could not place confidently.

    Provider errors propagate (the caller may fall back to ``classify_message``).
    """
    guess = classify_message(
        text,
        has_datasets=has_datasets,
        has_previous_answer=has_previous_answer,
        has_documents=has_documents,
    )
    if guess.confident or llm is None:
        return guess
    context = {
        "thread_has_data_files": has_datasets,
        "thread_has_documents": has_documents,
        "thread_has_previous_answer": has_previous_answer,
    }
    body = "\n\n".join(
        [
            "What the thread holds:",
            data_block("thread", context),
            "The message to classify:",
            data_block("message", strip_mentions(text)),
        ]
    )
    response = await llm.chat(
        "route",
        [ChatMessage(role="system", content=ROUTE_SYSTEM), ChatMessage(role="user", content=body)],
        response_schema=_SCHEMA,
        max_tokens=50,
    )
    kind = (response.parsed or {}).get("kind")
    if kind not in ROUTE_KINDS or (kind == "chart_followup" and not has_previous_answer):
        return guess
    if kind == "command":
        # Only the command parser may start a command; the model's label is advisory.
        return Route("chitchat", True, source="llm")
    return Route(kind, True, source="llm")
