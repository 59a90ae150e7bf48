"""The ``/readyz`` line for Milvus.

A Milvus server (``MILVUS_URI=http://host:19530``) is checked by opening a TCP
connection to it, cheap enough for every probe. The embedded milvus-lite file is not
opened here: milvus-lite allows one process per data directory, and that process is
the worker — so the line only says where the file is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from core.errors import StorageError

DEFAULT_PORT = 19530
_SERVER_SCHEMES = ("http", "https", "tcp", "grpc")


def server_address(uri: str) -> tuple[str, int] | None:
    """``(host, port)`` of a Milvus server URI; ``None`` for a milvus-lite file path."""
    parts = urlsplit(uri)
    if parts.scheme not in _SERVER_SCHEMES or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else DEFAULT_PORT
    return parts.hostname, parts.port or default


def milvus_check(uri: str) -> tuple[str, Callable[[], Awaitable[None]]] | None:
    """A ``("milvus", check)`` pair for a server URI, ``None`` for the embedded file."""
    address = server_address(uri)
    if address is None:
        return None
    host, port = address

    async def reachable() -> None:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            raise StorageError(f"{host}:{port}: {exc.strerror or exc}") from exc
        writer.close()
        await writer.wait_closed()

    return "milvus", reachable


def embedded_line(uri: str) -> str:
    return f"milvus: embedded milvus-lite file {uri} (one process: the worker)"
