"""A real ``milvus-lite server`` process on a free loopback port (tests and bench).

It is the gRPC endpoint several worker processes share (``MILVUS_URI=http://…``);
milvus-lite's embedded mode allows one process per data directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_for_port(port: int, process: asyncio.subprocess.Process, within: float) -> None:
    async with asyncio.timeout(within):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"milvus-lite server exited with {process.returncode}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)  # no event to wait on: poll the port with a deadline
                continue
            writer.close()
            await writer.wait_closed()
            return


@contextlib.asynccontextmanager
async def milvus_server(data_dir: Path, *, within: float = 60.0) -> AsyncIterator[str]:
    """Start the server, yield its URI, stop it (SIGTERM, then SIGKILL)."""
    port = free_port()
    executable = Path(sys.executable).with_name("milvus-lite")
    command = [str(executable), "server", "--data-dir", str(data_dir)]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _wait_for_port(port, process, within)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
