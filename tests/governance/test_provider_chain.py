"""A workspace's provider chain, set through the admin API, is the order its questions
use: with OpenAI first in the deployment's chain, a workspace that chose Anthropic
sends its question to Anthropic only (real SDKs against the fake servers)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import plotly.express as px
import pytest
from aiohttp import ClientSession
from governance.governance_support import add_workspace, mint, served
from llm.dev_stack import QUESTION, SMOKERS_BY_DAY
from llm.fakes import FakeLLMServer

from adapters.testing import make_inbound
from core.events import FileRef, TableSegment
from core.settings import SandboxLimits, Settings


@pytest.fixture
async def fakes() -> AsyncIterator[dict[str, FakeLLMServer]]:
    servers = {name: FakeLLMServer(name) for name in ("openai", "anthropic")}
    for server in servers.values():
        await server.start()
    yield servers
    for server in servers.values():
        await server.stop()


async def test_the_workspace_chain_orders_its_llm_calls(
    tmp_path: Path, fakes: dict[str, FakeLLMServer]
) -> None:
    openai, anthropic = fakes["openai"], fakes["anthropic"]
    anthropic.script(anthropic.tool_call("answer_with_spec", SMOKERS_BY_DAY))
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'nexus.db'}",
        data_dir=tmp_path / "data",
        redis_prefix="nexus-test-chain",
        embedder="none",
        openai_api_key=openai.api_key,
        openai_base_url=openai.base_url,
        anthropic_api_key=anthropic.api_key,
        anthropic_base_url=anthropic.base_url,
        groq_api_key=None,
        llm_provider_chain="openai,anthropic",
        sandbox_limits=SandboxLimits(preload=["pandas"], concurrency=1),
    )
    data = px.data.tips().to_csv(index=False).encode()
    async with served(settings) as (runtime, url, fetcher, adapter):
        inbound = make_inbound(
            f"<@UBOT> {QUESTION}",
            workspace="W",
            files=[FileRef(id="F1", name="tips.csv", size=len(data))],
        )
        await add_workspace(runtime.database, inbound.workspace)
        token = await mint(runtime.database, inbound.workspace)
        async with ClientSession() as http:
            path = f"{url}/admin/api/v1/workspaces/{inbound.workspace}/providers"
            headers = {"Authorization": f"Bearer {token}"}
            async with http.put(path, json={"chain": ["anthropic"]}, headers=headers) as put:
                assert put.status == 200, await put.text()
        fetcher.files["F1"] = data  # type: ignore[attr-defined]
        accepted = await adapter.deliver(inbound)  # type: ignore[attr-defined]
        assert accepted.kind == "enqueued", accepted
        (reply,) = await adapter.sender.wait_replies(1, within=120)  # type: ignore[attr-defined]

    assert (anthropic.request_count, openai.request_count) == (1, 0)
    (table,) = [s for s in reply.segments if isinstance(s, TableSegment)]
    frame = pd.read_csv(io.BytesIO(data))
    expected = frame[frame["smoker"] == "Yes"].groupby("day")["tip"].mean()
    assert {row[0]: row[1] for row in table.rows} == pytest.approx(expected.to_dict())
