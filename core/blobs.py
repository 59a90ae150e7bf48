"""Uploaded file bytes and large reply payloads, stored under one fsspec URL.

The default is ``file://<data_dir>/blobs``; any fsspec URL (``s3://bucket/nexus``,
``memory://nexus``) swaps the backend without code changes. A key is
``<workspace>/<part>/<part>...``: the workspace is always the first segment, so one
workspace's blobs can be listed, exported or deleted as a prefix.

Key parts are identifiers (workspace ids, dataset ids, content hashes), never raw
user file names: every part must match :data:`_PART`, which rules out ``..``,
separators and hidden names, so no key can escape the store's root.

With a :class:`~core.governance.encryption.SecretBox` (``NEXUS_ENCRYPTION_KEYS``), bytes
are encrypted before they leave the process and decrypted on read; without one,
reading an encrypted blob fails with a clear error instead of returning ciphertext.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from core.errors import StorageError
from core.governance.encryption import SecretBox, open_without_key

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,199}")


def _check_part(part: str) -> str:
    if not isinstance(part, str) or not _PART.fullmatch(part) or ".." in part:
        raise StorageError(f"invalid blob key part: {part!r}")
    return part


def _check_key(key: str) -> list[str]:
    parts = key.split("/")
    if len(parts) < 2:
        raise StorageError(f"invalid blob key (no workspace prefix): {key!r}")
    return [_check_part(p) for p in parts]


def workspace_of(key: str) -> str:
    """The workspace a blob key belongs to."""
    return _check_key(key)[0]


class BlobStore:
    """Bytes by key, on any fsspec filesystem; all I/O runs off the event loop."""

    def __init__(self, url: str, *, box: SecretBox | None = None, **storage_options: Any) -> None:
        self.url = url
        self.box = box
        fs, root = fsspec.core.url_to_fs(url, **storage_options)
        self._fs: fsspec.AbstractFileSystem = fs
        self._root = root.rstrip("/")
        self._local = isinstance(fs, LocalFileSystem)

    @classmethod
    def for_data_dir(cls, data_dir: Path, *, box: SecretBox | None = None) -> BlobStore:
        """The embedded default: a directory ``blobs`` in the data dir."""
        return cls(f"file://{(data_dir / 'blobs').resolve()}", box=box)

    def _path(self, key: str) -> str:
        return f"{self._root}/{'/'.join(_check_key(key))}"

    async def put(self, workspace: str, *parts: str, data: bytes) -> str:
        """Store ``data`` at ``<workspace>/<parts...>`` (overwriting) and return the key."""
        if not parts:
            raise StorageError("a blob key needs at least one part after the workspace")
        key = "/".join(_check_part(p) for p in (workspace, *parts))
        path = self._path(key)
        if self.box is not None:
            data = self.box.encrypt(data)
        try:
            await asyncio.to_thread(self._write, path, data)
        except OSError as exc:
            raise StorageError(f"blob write failed for {key}") from exc
        return key

    def _write(self, path: str, data: bytes) -> None:
        parent = path.rsplit("/", 1)[0]
        if not self._local:
            self._fs.pipe_file(path, data)
            return
        # Local disk: write aside then rename, so a crash never leaves a torn blob.
        self._fs.makedirs(parent, exist_ok=True)
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
            Path(tmp).replace(path)
        finally:
            Path(tmp).unlink(missing_ok=True)

    async def get(self, key: str) -> bytes:
        """The bytes at ``key``; :class:`StorageError` if missing or unreadable."""
        path = self._path(key)
        try:
            data: bytes = await asyncio.to_thread(self._fs.cat_file, path)
        except (OSError, KeyError) as exc:
            raise StorageError(f"blob not readable: {key}") from exc
        return self.box.decrypt(data) if self.box is not None else open_without_key(data)

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return bool(await asyncio.to_thread(self._fs.exists, path))

    async def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing blob is not an error (retries happen)."""
        path = self._path(key)
        try:
            await asyncio.to_thread(self._fs.rm_file, path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"blob delete failed for {key}") from exc

    async def list_keys(self, workspace: str | None = None) -> list[str]:
        """Every key (of one workspace, or of all): rotation and retention walk them."""
        base = self._root if workspace is None else f"{self._root}/{_check_part(workspace)}"
        if not await asyncio.to_thread(self._fs.exists, base):
            return []
        paths: list[str] = await asyncio.to_thread(self._fs.find, base)
        root = self._root.lstrip("/")
        keys = [path.lstrip("/").removeprefix(root).lstrip("/") for path in paths]
        return sorted(key for key in keys if "/.tmp-" not in f"/{key}")

    async def delete_workspace(self, workspace: str) -> None:
        """Remove every blob of one workspace (workspace deletion, data export done)."""
        path = f"{self._root}/{_check_part(workspace)}"
        if await asyncio.to_thread(self._fs.exists, path):
            await asyncio.to_thread(self._fs.rm, path, True)
