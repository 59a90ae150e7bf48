"""OpenAI through the official async SDK (Chat Completions)."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import openai

from core.llm.providers.openai_compat import ChatCompletionsProvider

DEFAULT_MODEL = "gpt-4.1-mini"


class OpenAIProvider(ChatCompletionsProvider):
    name = "openai"
    sdk: ClassVar[ModuleType] = openai
    client_class = "AsyncOpenAI"
    default_model_name = DEFAULT_MODEL
