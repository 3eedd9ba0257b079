"""The map's catalogue picture (recviz.viz.raster, figures.catalogue_raster) and the map drawn over it: a
valid PNG that covers every item in its genre's colour, and a small SVG figure that plotly accepts."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import plotly.graph_objects as go

from recviz.viz import figures
from recviz.viz.raster import png_bytes, rasterise
from recviz.viz.style import genre_color


def decode_png(data: bytes) -> np.ndarray:
    """[H, W, 4] pixels of an 8-bit RGBA PNG without filters (what png_bytes writes)."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 6) and b"IEND" in chunks
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(height, 1 + 4 * width)
    assert not raw[:, 0].any()  # filter 0 on every row
    return raw[:, 1:].reshape(height, width, 4)


def test_png_round_trips() -> None:
    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    np.testing.assert_array_equal(decode_png(png_bytes(rgba)), rgba)


def test_every_point_is_drawn_in_its_colour_where_it_lies() -> None:
    xy = np.array([[0.0, 0.0], [10.0, 5.0], [3.0, 8.0]])
    picture = rasterise(xy, [(np.array([0, 1]), "#FF0000"), (np.array([2]), "#0000FF")], pixel=0.1,
                        radius=3.0, opacity=0.5)
    pixels = decode_png(picture.png)
    height, width, _ = pixels.shape
    assert (width, height) == picture.size
    (x0, x1), (y0, y1) = picture.x_range, picture.y_range
    assert x0 < 0 < 10 < x1 and y0 < 0 < 8 < y1  # the picture covers every point (and its dot)
    for (x, y), rgb in zip(xy, [(255, 0, 0), (255, 0, 0), (0, 0, 255)], strict=True):
        col, row = int((x - x0) / (x1 - x0) * width), int((y1 - y) / (y1 - y0) * height)
        assert tuple(pixels[row, col, :3]) == rgb and pixels[row, col, 3] == 128  # opacity 0.5
    assert pixels[..., 3].mean() < 10  # mostly transparent: only the dots are drawn
    assert rasterise(xy, [(np.arange(3), "#00FF00")], 0.1, 3.0, 0.5).png == \
        rasterise(xy, [(np.arange(3), "#00FF00")], 0.1, 3.0, 0.5).png  # deterministic


def test_catalogue_picture_covers_the_map_with_a_colour_key(item_map) -> None:
    raster = figures.catalogue_raster(item_map)
    assert sum(n for _, _, n in raster.genres) == len(item_map.item_ids)
    assert [g for g, _, _ in raster.genres] == [t.name for t in figures.catalogue_traces(item_map)]
    assert all(colour == genre_color(g) for g, colour, _ in raster.genres)
    (x0, x1), (y0, y1) = raster.raster.x_range, raster.raster.y_range
    xy = np.asarray(item_map.xy)
    assert x0 < xy[:, 0].min() and xy[:, 0].max() < x1 and y0 < xy[:, 1].min() and xy[:, 1].max() < y1
    assert raster.image_source().startswith("data:image/png;base64,")  # self-contained until published


def test_map_over_the_picture_is_a_small_svg_overlay(explanation, item_map) -> None:
    raster = figures.catalogue_raster(item_map)
    published = figures.CatalogueRaster(raster.raster, raster.genres, "app/static/maps/x.png")
    fig = figures.interest_map_figure(explanation, item_map, catalogue=published)
    assert {t.type for t in fig.data} == {"scatter"}
    assert not [t for t in fig.data if t.legendgroup == "genres"]  # the catalogue is the picture
    [image] = fig.layout.images
    assert image.source == "app/static/maps/x.png" and image.layer == "below"
    assert (image.x, image.y) == (raster.raster.x_range[0], raster.raster.y_range[1])
    assert len(fig.to_json()) < 40_000
    stars = next(t for t in fig.data if t.legendgroup == "recommendations")
    assert len(stars.x) == len([f for f in explanation.fused if f.item_id in set(item_map.item_ids.tolist())])
    # the same overlay as the WebGL map, trace for trace
    webgl = figures.interest_map_figure(explanation, item_map)
    overlay = [t for t in webgl.data if t.legendgroup != "genres"]
    assert [(t.name, t.mode) for t in overlay] == [(t.name, t.mode) for t in fig.data]


def test_both_maps_are_valid_plotly_figures(explanation, item_map) -> None:
    """The map is built unvalidated (validation would cost most of an edit's figure time): plotly must
    accept every property it sets."""
    raster = figures.catalogue_raster(item_map)
    for catalogue in (None, raster):
        fig = figures.interest_map_figure(explanation, item_map, catalogue=catalogue)
        go.Figure(json.loads(fig.to_json()))  # raises on any invalid property
