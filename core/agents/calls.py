"""One analysis' access to the LLM router, and the record of what its calls cost.

Every agent call goes through :class:`LLMSession.chat`, so the answer's receipt can
list each call (provider, model, tokens, cost) and the whole analysis shares one
deadline and one provider chain. Prompt text is never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.answer import LLMCall, Receipt
from core.llm.router import LLMRouter
from core.llm.types import (
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Deadline,
    ResponseSchema,
    ToolSpec,
)
from core.logging import get_logger

log = get_logger("agents.calls")


@dataclass
class LLMSession:
    """The router plus who is asking, the deadline and the calls made so far."""

    router: LLMRouter
    workspace: str
    user: str | None = None
    deadline: Deadline | None = None
    chain: Sequence[str] | None = None
    calls: list[LLMCall] = field(default_factory=list)

    async def chat(
        self,
        purpose: str,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[ToolSpec] = (),
        tool_choice: Literal["auto", "required"] = "auto",
        response_schema: ResponseSchema | None = None,
        max_tokens: int = 1024,
        cache: bool = True,
    ) -> ChatResponse:
        """One routed call; provider errors propagate (see ``LLMRouter.chat``)."""
        request = ChatRequest(
            messages=list(messages),
            tools=list(tools),
            tool_choice=tool_choice,
            response_schema=response_schema,
            max_tokens=max_tokens,
            workspace=self.workspace,
            user=self.user,
            cache=cache,
        )
        response = await self.router.chat(request, chain=self.chain, deadline=self.deadline)
        self.calls.append(
            LLMCall(
                purpose=purpose,
                provider=response.provider,
                model=response.model,
                tokens_in=response.tokens_in,
                tokens_out=response.tokens_out,
                cost_usd=response.cost_usd,
                cached=response.cached,
            )
        )
        log.info(
            "agents.llm_call",
            workspace=self.workspace,
            purpose=purpose,
            provider=response.provider,
            model=response.model,
            tokens_in=response.tokens_in,
            tokens_out=response.tokens_out,
            cached=response.cached,
        )
        return response

    def stamp(self, receipt: Receipt) -> Receipt:
        """``receipt`` with these calls and their totals added."""
        calls = [*receipt.llm_calls, *self.calls]
        return receipt.model_copy(
            update={
                "llm_calls": calls,
                "tokens_in": sum(c.tokens_in for c in calls),
                "tokens_out": sum(c.tokens_out for c in calls),
                "cost_usd": sum(c.cost_usd for c in calls),
            }
        )
