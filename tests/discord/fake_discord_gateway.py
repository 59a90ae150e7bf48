"""The gateway half of the fake Discord: a ws:// endpoint speaking discord.py's script.

HELLO (op 10) on connect, heartbeat ACKs (op 11), IDENTIFY (op 2) answered with READY
and one GUILD_CREATE per configured guild, then dispatches on demand. Every frame is
plain text: discord.py only decompresses binary frames, whatever ``compress`` says.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web


class FakeGateway:
    application_id: str
    port: int

    def __init__(self) -> None:
        self.guilds: list[dict[str, Any]] = []
        """Sent as GUILD_CREATE after READY."""
        self.identified = asyncio.Event()
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0

    def user(self) -> dict[str, Any]:
        raise NotImplementedError

    async def close_sockets(self) -> None:
        for ws in self._sockets:
            await ws.close()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send one gateway DISPATCH (a text frame) to every identified client."""
        await asyncio.wait_for(self.identified.wait(), 10)
        self._seq += 1
        for ws in self._sockets:
            await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    # gateway ---------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif frame["op"] == 2:
                await self._ready(ws)
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        self._seq += 1
        ready = {
            "v": 10,
            "user": self.user(),
            "session_id": "fake-session",
            "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds],
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gw/",
            "shard": [0, 1],
            "application": {"id": self.application_id, "flags": 0},
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
        for guild in self.guilds:
            self._seq += 1
            await ws.send_str(
                json.dumps({"op": 0, "t": "GUILD_CREATE", "s": self._seq, "d": guild})
            )
        self._sockets.append(ws)
        self.identified.set()
