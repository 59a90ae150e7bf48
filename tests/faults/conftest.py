"""Fixtures of the fault tests: the conversation stack (tests/conversation) and the
app with every platform (tests/abuse), on Redis servers and proxies these tests own."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for helpers in (TESTS / "conversation", TESTS / "abuse", TESTS.parent / "bench"):
    sys.path.insert(0, str(helpers))

from private_redis import PrivateRedis  # noqa: E402
from stack_fixtures import make_stack  # noqa: E402, F401 (a fixture)


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, persisting every write (AOF, fsync always)."""
    with PrivateRedis(tmp_path / "redis-aof", appendonly=True) as server:
        yield server


@pytest.fixture
def plain_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own that keeps nothing across a restart."""
    with PrivateRedis(tmp_path / "redis-plain", appendonly=False) as server:
        yield server
