"""A TcpProxy whose outage is a real "connection refused", on a port that comes back.

:class:`tcp_proxy.TcpProxy` accepts and then drops connections while cut. Here
``refuse()`` stops listening altogether, so a client's connect() fails with
ECONNREFUSED, as it does against a crashed provider. The port stays reserved by a
bound, non-listening socket (SO_REUSEPORT lets it sit beside the listener), so no
other process can take it and ``come_back()`` listens on the very same port: the
client's configured base URL works again without a restart.
"""

from __future__ import annotations

import asyncio
import socket

from tcp_proxy import TcpProxy


def _bound_socket(port: int) -> socket.socket:
    """A loopback TCP socket bound to ``port`` (0: any), not yet listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


class RefusingProxy(TcpProxy):
    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(target_host, target_port)
        self._reserved: socket.socket | None = None
        """Holds the port while nothing listens on it."""

    async def start(self) -> RefusingProxy:
        await self._listen(_bound_socket(0))
        return self

    async def refuse(self) -> None:
        """Stop listening: every connect() is refused until :meth:`come_back`."""
        if self._server is None:
            return
        self._reserved = _bound_socket(self.port)  # before the listener lets go of it
        self.cut()  # drops the connections already open (pooled keep-alives too)
        self._server.close()
        await self._server.wait_closed()
        self._server = None

    async def come_back(self) -> None:
        """Listen again, on the same port."""
        if self._reserved is not None:
            reserved, self._reserved = self._reserved, None
            await self._listen(reserved)
        self.restore()

    async def close(self) -> None:
        await super().close()
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None

    async def _listen(self, sock: socket.socket) -> None:
        sock.listen(64)
        self._server = await asyncio.start_server(self._accept, sock=sock)
        self.port = sock.getsockname()[1]
