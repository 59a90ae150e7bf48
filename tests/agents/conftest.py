"""Fixtures for the agents: fake provider servers (real SDKs), routers, a real sandbox.

The fake OpenAI/Anthropic/Groq servers are the LLM layer's own (``tests/llm/fakes``).
The sandbox is the real local backend; the programs here are ordinary analysis code,
so it runs without the hostile suite's outer jail. Everything async in this package
runs on the session loop (``pytestmark`` in each module) because the sandbox's fork
server is shared across the session.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.express as px
import pytest
import pytest_asyncio
from llm.fakes import FakeLLMServer  # tests/ is on sys.path; tests/llm is package "llm"

from core.datasets.models import Table
from core.engine import AnalysisEngine
from core.llm.accounting import InMemoryUsageRecorder
from core.llm.circuit import CircuitBreaker
from core.llm.pricing import PriceTable
from core.llm.providers.anthropic_provider import AnthropicProvider
from core.llm.providers.base import Provider
from core.llm.providers.groq_provider import GroqProvider
from core.llm.providers.openai_provider import OpenAIProvider
from core.llm.router import LLMRouter
from core.sandbox.local import LocalSandbox
from core.settings import SandboxLimits

DIALECTS = ("openai", "anthropic", "groq")
# The API key the fake OpenAI server accepts: the one secret the process holds.
SECRET = "sk-proj-nexus-" + secrets.token_hex(16)

Fakes = dict[str, FakeLLMServer]


@pytest.fixture(scope="session")
def secret_env() -> str:
    """The secret the worker process holds (planted in its environment while the
    sandbox starts, so a leak would be inherited then)."""
    return SECRET


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sandbox(secret_env: str) -> AsyncIterator[LocalSandbox]:
    limits = SandboxLimits(
        timeout_seconds=20.0,
        cpu_seconds=10,
        memory_mb=1024,
        concurrency=2,
        preload=["pandas", "numpy", "pyarrow.parquet"],
    )
    box = LocalSandbox(limits)
    # Only during the start: a session-wide key would leak into every later test.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", secret_env)
        await box.start()
    yield box
    await box.close()


@pytest_asyncio.fixture(loop_scope="session")
async def fakes() -> AsyncIterator[Fakes]:
    servers = {
        "openai": FakeLLMServer("openai", api_key=SECRET),
        "anthropic": FakeLLMServer("anthropic"),
        "groq": FakeLLMServer("groq"),
    }
    for server in servers.values():
        await server.start()
    yield servers
    for server in servers.values():
        await server.stop()


def _provider(server: FakeLLMServer) -> Provider:
    kinds: dict[str, Any] = {
        "openai": OpenAIProvider,
        "anthropic": AnthropicProvider,
        "groq": GroqProvider,
    }
    return kinds[server.dialect](
        api_key=server.api_key, base_url=server.base_url, timeout_seconds=5.0
    )


RouterFactory = Callable[..., LLMRouter]


@pytest_asyncio.fixture(loop_scope="session")
async def make_router(fakes: Fakes) -> AsyncIterator[RouterFactory]:
    routers: list[LLMRouter] = []

    def build(*, order: tuple[str, ...] = DIALECTS, **kwargs: Any) -> LLMRouter:
        kwargs.setdefault("prices", PriceTable())
        router = LLMRouter(
            [_provider(fakes[name]) for name in order],
            breaker_factory=lambda name: CircuitBreaker(name, failure_threshold=5),
            **kwargs,
        )
        routers.append(router)
        return router

    yield build
    for router in routers:
        await router.aclose()


@pytest.fixture
def usage() -> InMemoryUsageRecorder:
    return InMemoryUsageRecorder()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents-data")
    px.data.tips().to_csv(path / "tips.csv", index=False)
    px.data.gapminder().to_csv(path / "gapminder.csv", index=False)
    return path


@pytest.fixture
def engine() -> AnalysisEngine:
    return AnalysisEngine(renderer=None)


@pytest.fixture
def tips(engine: AnalysisEngine, data_dir: Path) -> list[Table]:
    return engine.load_files([data_dir / "tips.csv"])


@pytest.fixture
def gapminder(engine: AnalysisEngine, data_dir: Path) -> list[Table]:
    return engine.load_files([data_dir / "gapminder.csv"])


@pytest.fixture(scope="session")
def tips_frame(data_dir: Path) -> pd.DataFrame:
    return pd.read_csv(data_dir / "tips.csv")


def bodies(fakes: Fakes) -> list[dict[str, Any]]:
    """Every request body any fake received, in arrival order."""
    recorded = [r for server in fakes.values() for r in server.requests]
    return [r.json for r in sorted(recorded, key=lambda r: r.at)]


def request_text(body: dict[str, Any]) -> str:
    """A request body as one string (for "does X appear anywhere" checks)."""
    return json.dumps(body, ensure_ascii=False)


def user_content(body: dict[str, Any], index: int = 0) -> str:
    """The ``index``-th user message's text (OpenAI/Groq and Anthropic shapes)."""
    users = [m for m in body["messages"] if m["role"] == "user"]
    content = users[index]["content"]
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


def total_requests(fakes: Fakes) -> int:
    return sum(server.request_count for server in fakes.values())
