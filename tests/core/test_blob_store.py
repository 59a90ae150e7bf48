"""Blob keys are workspace-prefixed, any fsspec URL works, and traversal is refused."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from core.blobs import BlobStore, workspace_of
from core.errors import StorageError


@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "file":
        return BlobStore.for_data_dir(tmp_path)
    return BlobStore(f"memory://nexus-test-{uuid.uuid4().hex}")


async def test_put_get_delete_round_trip(store: BlobStore) -> None:
    key = await store.put("slack:T1", "datasets", "abc123", data=b"a,b\n1,2\n")
    assert key == "slack:T1/datasets/abc123"
    assert workspace_of(key) == "slack:T1"
    assert await store.get(key) == b"a,b\n1,2\n"
    assert await store.exists(key)
    await store.put("slack:T1", "datasets", "abc123", data=b"new")  # overwrite
    assert await store.get(key) == b"new"
    await store.delete(key)
    assert not await store.exists(key)
    await store.delete(key)  # idempotent
    with pytest.raises(StorageError):
        await store.get(key)


async def test_same_parts_in_two_workspaces_are_two_blobs(store: BlobStore) -> None:
    a = await store.put("slack:TA", "d", "same", data=b"A")
    b = await store.put("slack:TB", "d", "same", data=b"B")
    assert a != b
    assert (await store.get(a), await store.get(b)) == (b"A", b"B")
    await store.delete_workspace("slack:TA")
    assert not await store.exists(a)
    assert await store.get(b) == b"B"


def test_file_store_lives_under_data_dir(tmp_path: Path) -> None:
    store = BlobStore.for_data_dir(tmp_path)
    assert store.url == f"file://{(tmp_path / 'blobs').resolve()}"


async def test_local_files_land_inside_the_root(tmp_path: Path) -> None:
    store = BlobStore.for_data_dir(tmp_path)
    await store.put("ws", "x", "y.csv", data=b"1")
    files = await asyncio.to_thread(lambda: [p for p in tmp_path.rglob("*") if p.is_file()])
    assert files == [tmp_path / "blobs" / "ws" / "x" / "y.csv"]


BAD_PARTS = ["..", ".", "", "a/b", "a\\b", "../etc", ".hidden", "a..b", "/abs", "x\x00y", "~root"]


@pytest.mark.parametrize("bad", BAD_PARTS)
async def test_traversal_and_odd_parts_are_rejected(store: BlobStore, bad: str) -> None:
    with pytest.raises(StorageError):
        await store.put("ws", "datasets", bad, data=b"x")
    with pytest.raises(StorageError):
        await store.put(bad, "datasets", data=b"x")


@pytest.mark.parametrize("bad_key", ["ws/../other/x", "../x", "ws", "ws//x", "/ws/x", "ws/./x"])
async def test_bad_keys_are_rejected_on_read_and_delete(store: BlobStore, bad_key: str) -> None:
    with pytest.raises(StorageError):
        await store.get(bad_key)
    with pytest.raises(StorageError):
        await store.delete(bad_key)


async def test_a_key_needs_a_part_after_the_workspace(store: BlobStore) -> None:
    with pytest.raises(StorageError):
        await store.put("ws", data=b"x")
