"""Check that bytes are a well-formed PNG (signature, chunk CRCs, IHDR..IEND, pixel
data that inflates to the declared size) without an imaging library; and make one."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a valid PNG; AssertionError says what is wrong otherwise."""
    assert data.startswith(SIGNATURE), "no PNG signature"
    pos, chunks, idat = len(SIGNATURE), [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append(kind)
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND", "chunks out of order"
    header = data[16:29]
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    row = (width * _CHANNELS[color] * depth + 7) // 8 + 1
    assert len(zlib.decompress(idat)) == row * height, "pixel data has the wrong size"
    return width, height


def make_png(width: int = 4, height: int = 3) -> bytes:
    """A small valid RGB PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in ((x * 40) % 256, (y * 60) % 256, 128))
        for y in range(height)
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
