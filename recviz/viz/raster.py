"""Points → a transparent PNG, with numpy and zlib only: the interest map's catalogue layer drawn once as a
picture, so that the app sends and draws thousands of items once per map instead of on every edit.

Past :data:`DENSITY_POINTS` points (a catalogue of hundreds of thousands of items) the picture is a density
layer: points are counted per pixel and each pixel composites as many translucent dots as there are points
within the dot's reach (a square of the same reach, summed with an integral image), which costs the same per
pixel whatever the number of points instead of one small disc per point.

Pure functions: no plotly, no Streamlit, no I/O. Deterministic (same points → same bytes).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_SIDE = 4096        # pixels: a far outlier never makes the picture huge (it coarsens it instead)
DENSITY_POINTS = 200_000  # from this many points on, a density layer (counts per pixel), not one disc each


@dataclass(frozen=True)
class Raster:
    """A picture of points and where it lies in data coordinates (the image's edges, not pixel centres)."""

    png: bytes
    x_range: tuple[float, float]   # left, right
    y_range: tuple[float, float]   # bottom, top
    size: tuple[int, int]          # width, height in pixels


def _rgb(colour: str) -> tuple[int, int, int]:
    """'#RRGGBB' → (r, g, b)."""
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def png_bytes(rgba: np.ndarray) -> bytes:
    """An [H, W, 4] uint8 image as PNG bytes (8-bit RGBA, no filter, zlib level 6)."""
    height, width, _ = rgba.shape
    raw = np.zeros((height, 1 + width * 4), dtype=np.uint8)  # [H, 1 + 4W]: filter byte 0, then the row
    raw[:, 1:] = rgba.reshape(height, width * 4)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
            + chunk(b"IEND", b""))


def rasterise(xy: np.ndarray, layers: Sequence[tuple[np.ndarray, str]], pixel: float, radius: float,
              opacity: float) -> Raster:
    """Draw points as soft-edged discs on a transparent picture covering every point.

    ``xy`` [M, 2] data positions; ``layers``: (row indices into ``xy``, '#RRGGBB') drawn in order, each
    one layer of its colour at ``opacity`` composited over the ones before (as one translucent trace per
    colour); ``pixel``: data units per pixel (grown when the picture would exceed MAX_SIDE pixels);
    ``radius``: disc radius in pixels.
    """
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)  # [M, 2]
    lo, hi = (pts.min(0), pts.max(0)) if len(pts) else (np.zeros(2), np.ones(2))  # [2], [2]
    pad = (radius + 1) * pixel
    lo, hi = lo - pad, hi + pad
    pixel = max(pixel, float((hi - lo).max()) / MAX_SIDE)
    width, height = (int(np.ceil(s)) for s in (hi - lo) / pixel)
    hi = lo + np.asarray([width, height]) * pixel  # the picture's exact extent
    # pixel coordinates of the points: x to the right, y downwards from the top edge
    px = (pts[:, 0] - lo[0]) / pixel  # [M]
    py = (hi[1] - pts[:, 1]) / pixel  # [M]
    dense = len(pts) >= DENSITY_POINTS
    image = np.zeros((height * width, 3), dtype=np.float32)  # premultiplied colour, flat pixels
    alpha = np.zeros(height * width, dtype=np.float32)
    for rows, colour in layers:
        rows = np.asarray(rows, dtype=np.int64)  # [n]
        if not len(rows):
            continue
        draw = _density_alpha if dense else _disc_alpha
        pixels, a = draw(px[rows], py[rows], radius, width, height, opacity)  # [U], [U]
        rgb = np.asarray(_rgb(colour), dtype=np.float32) / 255  # [3]
        image[pixels] = image[pixels] * (1 - a[:, None]) + a[:, None] * rgb
        alpha[pixels] = alpha[pixels] * (1 - a) + a
    colour = np.divide(image, alpha[:, None], out=np.zeros_like(image), where=alpha[:, None] > 0)
    rgba = np.concatenate([colour, alpha[:, None]], axis=1).reshape(height, width, 4)  # straight alpha
    rgba = np.clip(np.rint(rgba * 255), 0, 255).astype(np.uint8)
    return Raster(png_bytes(rgba), (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])),
                  (width, height))


def _disc_alpha(px: np.ndarray, py: np.ndarray, radius: float, width: int, height: int,
                opacity: float) -> tuple[np.ndarray, np.ndarray]:
    """One anti-aliased disc per point (pixel coordinates px, py [n]): the covered flat pixels [U] and this
    layer's alpha there [U] (the strongest coverage of any of its discs, times ``opacity``)."""
    reach = int(np.ceil(radius + 0.5))
    offsets = np.arange(-reach, reach + 1)  # [S]
    cx = np.floor(px).astype(np.int64)[:, None, None] + offsets[None, None, :]  # [n, 1, S]
    cy = np.floor(py).astype(np.int64)[:, None, None] + offsets[None, :, None]  # [n, S, 1]
    dist = np.hypot(cx + 0.5 - px[:, None, None], cy + 0.5 - py[:, None, None])  # [n, S, S]
    cover = np.clip(radius + 0.5 - dist, 0.0, 1.0)  # [n, S, S] anti-aliased edge
    cx, cy = np.broadcast_arrays(cx, cy)
    inside = (cover > 0) & (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
    flat, cover = (cy * width + cx)[inside], cover[inside]  # [P], [P]
    order = np.argsort(flat, kind="stable")
    flat, cover = flat[order], cover[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])  # [U] first entry of each pixel
    return flat[starts], (np.maximum.reduceat(cover, starts) * opacity).astype(np.float32)


def _density_alpha(px: np.ndarray, py: np.ndarray, radius: float, width: int, height: int,
                   opacity: float) -> tuple[slice, np.ndarray]:
    """Points counted per pixel, each pixel's count summed over the square of the dots' reach (an integral
    image: O(pixels) whatever the number of points), and ``n`` points there composited as ``n`` dots of
    ``opacity``: alpha ``1 − (1 − opacity)^n``. Returns every pixel (a slice) and its alpha [H*W]."""
    reach = int(np.floor(radius))
    side = 2 * reach + 1
    cx = np.clip(np.floor(px).astype(np.int64), 0, width - 1) + reach  # [n] in the padded picture
    cy = np.clip(np.floor(py).astype(np.int64), 0, height - 1) + reach  # [n]
    padded_w = width + 2 * reach
    counts = np.bincount(cy * padded_w + cx, minlength=(height + 2 * reach) * padded_w)  # [(H+2r)*(W+2r)]
    table = np.zeros((height + 2 * reach + 1, padded_w + 1), dtype=np.int32)  # integral image
    table[1:, 1:] = counts.reshape(height + 2 * reach, padded_w).astype(np.int32).cumsum(0).cumsum(1)
    near = (table[side:, side:] - table[:-side, side:] - table[side:, :-side]
            + table[:-side, :-side]).reshape(-1)  # [H*W] points within reach of each pixel
    lookup = (1.0 - (1.0 - opacity) ** np.arange(int(near.max(initial=0)) + 1)).astype(np.float32)
    return slice(None), lookup[near]  # every pixel: whole-array arithmetic beats indexing most of them
