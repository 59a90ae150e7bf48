"""Helpers for the Discord adapter tests: a recording intake and Discord payload builders.

The recording intake stands in for the conversation manager in adapter-level tests
only (what the adapter hands over, and what it does with each acceptance); the
end-to-end tests use the real manager and worker.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import Callable
from typing import Any

from fake_discord import FakeDiscord, snowflake

from core.events import PNG_MAGIC, Inbound
from core.ports import Acceptance


class RecordingIntake:
    """Records every Inbound; answers with a scripted Acceptance (or raises)."""

    def __init__(self) -> None:
        self.inbounds: list[Inbound] = []
        self.answer: Acceptance | None = None
        self.error: Exception | None = None
        self.seen: set[str] = set()
        self.arrived = asyncio.Event()
        self.probe: Callable[[], Any] | None = None
        """Called at each accept; its results (in ``probes``) show what had happened by then."""
        self.probes: list[Any] = []

    async def accept(self, inbound: Inbound) -> Acceptance:
        self.inbounds.append(inbound)
        if self.probe is not None:
            self.probes.append(self.probe())
        self.arrived.set()
        if self.error is not None:
            raise self.error
        if self.answer is not None:
            return self.answer
        # Like the real manager: the second delivery of one event is a duplicate.
        if inbound.event_id in self.seen:
            return Acceptance(kind="duplicate")
        self.seen.add(inbound.event_id)
        return Acceptance(kind="enqueued", job_id="job-1")


def text_channel(guild_id: str | None) -> dict[str, Any]:
    """The partial channel Discord sends with an interaction (discord.py reads ``name``)."""
    if guild_id is None:
        return {"id": "444444444444444444", "type": 1, "recipients": []}
    return {
        "id": "444444444444444444",
        "type": 0,
        "name": "data",
        "guild_id": guild_id,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "topic": None,
        "last_message_id": None,
        "flags": 0,
        "permissions": "2248473465835073",
    }


def ask_payload(
    fake: FakeDiscord,
    *,
    question: str = "average tip by day",
    file_url: str | None = None,
    file_size: int = 1234,
    guild_id: str | None = "555555555555555555",
    interaction_id: str | None = None,
    token: str = "INTERACTION_TOKEN",
    channel: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE ``d`` for ``/ask`` as Discord sends it (platforms.md §2.2)."""
    user = {
        "id": "999",
        "username": "ana",
        "global_name": "Ana",
        "discriminator": "0",
        "avatar": None,
    }
    options: list[dict[str, Any]] = [{"name": "question", "type": 3, "value": question}]
    data: dict[str, Any] = {
        "id": "888888888888888888",
        "name": "ask",
        "type": 1,
        "options": options,
    }
    if file_url is not None:
        options.append({"name": "file", "type": 11, "value": "666666666666666666"})
        data["resolved"] = {
            "attachments": {
                "666666666666666666": {
                    "id": "666666666666666666",
                    "filename": "tips.csv",
                    "size": file_size,
                    "content_type": "text/csv; charset=utf-8",
                    "ephemeral": True,
                    "url": file_url,
                    "proxy_url": file_url,
                }
            }
        }
    payload: dict[str, Any] = {
        "id": interaction_id or snowflake(seq=9),
        "application_id": fake.application_id,
        "type": 2,
        "token": token,
        "version": 1,
        "channel_id": "444444444444444444",
        "channel": channel or text_channel(guild_id),
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id or "0"},
        "context": 0 if guild_id else 1,
        "attachment_size_limit": 10_485_760,
        "data": data,
    }
    if guild_id:
        payload["guild_id"] = guild_id
        payload["member"] = {
            "user": user,
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": "0",
        }
    else:
        payload["user"] = user
    return payload


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A real RGB PNG (filter 0 rows), built by hand: no imaging library needed."""
    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_MAGIC
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def assert_valid_png(data: bytes) -> tuple[int, int]:
    """Check the signature, every chunk's CRC, IHDR first, IEND last and that the image
    data inflates to exactly the rows IHDR announces; return (width, height)."""
    assert data.startswith(PNG_MAGIC), "not a PNG signature"
    pos, chunks = len(PNG_MAGIC), []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(raw) == height * (1 + (width * channels * depth + 7) // 8)
    return width, height
