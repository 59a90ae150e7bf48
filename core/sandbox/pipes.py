"""Reading a child's pipe from the event loop without ever buffering more than a cap."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable


class CappedPipe:
    """Drains one pipe from the event loop, keeping at most ``cap`` bytes."""

    def __init__(self, fd: int, cap: int, on_overflow: Callable[[], None]) -> None:
        self.fd, self.cap, self.on_overflow = fd, cap, on_overflow
        self.buf = bytearray()
        self.overflow = False
        self.closed = False
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        os.set_blocking(fd, False)
        self.loop.add_reader(fd, self._read)

    def _read(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            return
        room = self.cap - len(self.buf)
        self.buf += chunk[:room]
        if len(chunk) > room:
            self.overflow = True
            self.close()
            self.on_overflow()

    def close(self) -> None:
        # Tracked apart from ``done``: a waiter may cancel that future, and the fd
        # must still be unregistered and closed exactly once.
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.fd)
        os.close(self.fd)
        if not self.done.done():
            self.done.set_result(None)
