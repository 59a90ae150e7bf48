"""Fitting a chart PNG into what Teams shows inline: at most 1024×1024 px and 1 MB.

Teams rejects or silently drops larger pictures, so a chart rendered at a high scale
is shrunk (aspect ratio kept) and re-encoded; if the PNG is still over the byte limit
it is shrunk further, step by step. Charts are flat-colour images, so a PNG this size
is usually 50-300 KB and the first pass is the only one.
"""

from __future__ import annotations

import io

from PIL import Image

MAX_SIDE = 1024
MAX_BYTES = 1024 * 1024
_SHRINK_STEP = 0.8


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def fit_png(png: bytes, *, max_side: int = MAX_SIDE, max_bytes: int = MAX_BYTES) -> bytes:
    """``png`` itself when it already fits, else a smaller PNG that does."""
    with Image.open(io.BytesIO(png)) as opened:
        width, height = opened.size
        if width <= max_side and height <= max_side and len(png) <= max_bytes:
            return png
        image = opened.convert("RGBA") if opened.mode not in ("RGB", "RGBA") else opened.copy()
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    data = _encode(image)
    while len(data) > max_bytes and min(image.size) > 16:
        size = (int(image.width * _SHRINK_STEP), int(image.height * _SHRINK_STEP))
        image = image.resize(size, Image.Resampling.LANCZOS)
        data = _encode(image)
    return data
