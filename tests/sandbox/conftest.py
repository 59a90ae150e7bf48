"""Fixtures for the sandbox suite.

One jailed :class:`LocalSandbox` is shared by the whole session (its fork server
takes a few seconds to import the analysis stack). Secrets are planted in this
process's environment before it starts, so tests can prove they never reach the
sandbox.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pandas as pd
import plotly.express as px
import pytest
import pytest_asyncio
from sandbox_jail import CANARY_VARS, OuterJail, make_limits

from core.sandbox.local import LocalSandbox


@pytest.fixture(scope="session")
def canary() -> str:
    """A secret of the kind a worker holds (API keys, bot tokens)."""
    return "nexus-canary-" + secrets.token_hex(12)


@contextlib.contextmanager
def planted(token: str) -> Iterator[None]:
    """The canary in this process's environment, only while the sandbox starts (so
    it would be inherited then) and without leaking into other tests."""
    saved = {k: os.environ.get(k) for k in CANARY_VARS}
    os.environ.update(dict.fromkeys(CANARY_VARS, token))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def jail() -> Iterator[OuterJail]:
    jail = OuterJail()
    if jail.problem:
        # Never run hostile programs unguarded, and never pass silently either.
        pytest.fail(f"cannot build the outer PID namespace + cgroup jail: {jail.problem}")
    yield jail
    jail.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def sandbox(jail: OuterJail, canary: str) -> AsyncIterator[LocalSandbox]:
    box = LocalSandbox(make_limits(), launcher=jail.launcher)
    with planted(canary):
        await box.start()
    jail.assert_holds(box)
    yield box
    await box.close()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real datasets from plotly (tips, iris) as CSV files in a host directory."""
    path = tmp_path_factory.mktemp("data")
    px.data.tips().to_csv(path / "tips.csv", index=False)
    px.data.iris().to_csv(path / "iris.csv", index=False)
    frame = pd.DataFrame({"g": [i % 7 for i in range(10_000)], "v": range(10_000)})
    frame.to_csv(path / "ten_k.csv", index=False)
    return path
