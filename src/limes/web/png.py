"""PNG encoding of RGBA images for the map's server-side layers (hillshade tiles, heat)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
from numpy.typing import NDArray


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(rgba: NDArray[np.uint8], level: int = 6) -> bytes:
    """A PNG file of an (rows, cols, 4) uint8 RGBA image (8 bits per channel, no filter)."""
    image = np.ascontiguousarray(rgba, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 4:
        raise ValueError(f"expected an (rows, cols, 4) RGBA array, got shape {image.shape}")
    rows, cols = image.shape[:2]
    # Each scanline starts with its filter type; 0 (none) keeps encoding a single zlib call.
    raw = np.zeros((rows, cols * 4 + 1), dtype=np.uint8)
    raw[:, 1:] = image.reshape(rows, cols * 4)
    header = struct.pack(">IIBBBBB", cols, rows, 8, 6, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), level)),
            _chunk(b"IEND", b""),
        ]
    )
