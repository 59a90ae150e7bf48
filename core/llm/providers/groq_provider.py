"""Groq through its official async SDK (OpenAI-compatible API under ``/openai/v1``)."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import groq

from core.llm.providers.openai_compat import ChatCompletionsProvider

# Supports tool use and json_schema structured output on Groq.
DEFAULT_MODEL = "openai/gpt-oss-120b"


class GroqProvider(ChatCompletionsProvider):
    name = "groq"
    sdk: ClassVar[ModuleType] = groq
    client_class = "AsyncGroq"
    default_model_name = DEFAULT_MODEL
