"""Checks a GeoJSON of mask polygons (MaskPolygons.geoJSON, `compseg … --geojson`) against the mask
PNG it was made from, with shapely (GEOS) as the independent judge.

Usage (from the repository root):
    $PY -m pip install shapely          # checked with shapely 2.2.0 (GEOS 3.14.1), numpy 2.4, Pillow 13
    $PY tools/check_geojson.py MASK.png MASK.geojson [--scale S] [--origin X Y] [--connectivity eight|four]
                               [--summary OUT.json]
where PY is a Python with numpy and Pillow (e.g. /root/.venv-torch/bin/python). Exit status 0 when
every check passes, 1 otherwise; one line per failure on stderr, a JSON summary on stdout.

The mask: non-zero in the first channel is foreground (as PNGImage.mask). Checks:
  * FeatureCollection of Features with properties objectType "annotation" and a classification with
    a name and an RGB colour; geometry Polygon, or MultiPolygon only with --connectivity eight;
  * every geometry `is_valid` (else `explain_validity`); rings closed; exteriors counter-clockwise
    and holes clockwise by signed area (RFC 7946; shapely `orient(g, 1.0)` leaves them unchanged);
  * coordinates are origin + scale·(integer corner);
  * the union's area equals the mask's pixel count × scale², and the features' areas add up to it
    (no overlap). Exact (tolerance 0) when scale and origin are integers — every area is then an
    integer computed exactly in binary floating point; otherwise within 1e-9 × area (rounding of
    scaled coordinates);
  * rasterising gives the mask back: shapely `contains_xy` at every pixel centre equals the mask,
    and each feature's pixels are exactly one 4- or 8-connected component of it (masks of at most
    --max-raster pixels, default 1,048,576; larger ones get the area checks only);
  * for masks of at most 65,536 pixels, the union `equals` the union of the pixel squares made by
    shapely itself (box per run of pixels, unary_union): the same point set, built independently.
"""
import argparse
import json
import sys
from collections import deque

import numpy as np
import shapely
from PIL import Image
from shapely.geometry import box, shape
from shapely.geometry.polygon import orient
from shapely.ops import unary_union


def load_mask(path):
    """H×W bool: non-zero in the first channel (palette images expanded to RGB first)."""
    image = Image.open(path)
    if image.mode == "P":
        image = image.convert("RGB")
    a = np.asarray(image)
    return (a[..., 0] if a.ndim == 3 else a) != 0


def components(mask, eight):
    """Label array (0 = background, 1… = components in row-major order of first pixel)."""
    h, w = mask.shape
    labels = np.zeros((h, w), dtype=np.int64)
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)] + ([(-1, -1), (-1, 1), (1, -1), (1, 1)] if eight else [])
    n = 0
    for r, c in zip(*np.nonzero(mask)):
        if labels[r, c]:
            continue
        n += 1
        labels[r, c] = n
        queue = deque([(r, c)])
        while queue:
            y, x = queue.popleft()
            for dy, dx in steps:
                v, u = y + dy, x + dx
                if 0 <= v < h and 0 <= u < w and mask[v, u] and not labels[v, u]:
                    labels[v, u] = n
                    queue.append((v, u))
    return labels, n


def pixel_union(mask, scale, origin):
    """The union of the mask's pixel squares, by shapely: one box per horizontal run."""
    boxes = []
    for r in range(mask.shape[0]):
        row = np.concatenate([[False], mask[r], [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(row))
        for a, b in zip(edges[::2], edges[1::2]):
            boxes.append(box(origin[0] + scale * a, origin[1] + scale * r,
                             origin[0] + scale * b, origin[1] + scale * (r + 1)))
    return unary_union(boxes)


def signed_area(ring):
    x, y = np.asarray(ring, dtype=float).T
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def check(collection, mask, scale=1.0, origin=(0.0, 0.0), connectivity="eight", max_raster=1 << 20):
    """(failures: list of str, summary: dict) for a parsed GeoJSON and an H×W bool mask."""
    failures = []
    fail = failures.append
    exact = float(scale).is_integer() and all(float(o).is_integer() for o in origin)
    pixels = int(mask.sum())
    expected = pixels * scale * scale
    tolerance = 0.0 if exact else 1e-9 * max(1.0, expected)

    if collection.get("type") != "FeatureCollection" or not isinstance(collection.get("features"), list):
        return ["not a FeatureCollection with a list of features"], {}
    features = collection["features"]
    geometries, summary_features = [], []
    for i, f in enumerate(features):
        where = f"feature {i}"
        props = f.get("properties") or {}
        cls = props.get("classification") or {}
        if f.get("type") != "Feature" or props.get("objectType") != "annotation":
            fail(f"{where}: not a Feature with objectType annotation")
        colour = cls.get("color")
        if not isinstance(cls.get("name"), str) or not (isinstance(colour, list) and len(colour) == 3
                                                        and all(isinstance(c, int) and 0 <= c <= 255 for c in colour)):
            fail(f"{where}: classification needs a name and an RGB colour: {cls}")
        gtype = f["geometry"]["type"]
        if gtype not in ("Polygon", "MultiPolygon") or (gtype == "MultiPolygon" and connectivity != "eight"):
            fail(f"{where}: geometry type {gtype} with connectivity {connectivity}")
        polygons = [f["geometry"]["coordinates"]] if gtype == "Polygon" else f["geometry"]["coordinates"]
        holes = 0
        for p, rings in enumerate(polygons):
            for k, ring in enumerate(rings):
                name = f"{where} polygon {p} {'exterior' if k == 0 else f'hole {k}'}"
                if len(ring) < 5 or ring[0] != ring[-1]:
                    fail(f"{name}: not a closed ring of at least 4 corners")
                grid = (np.asarray(ring, dtype=float) - np.asarray(origin, dtype=float)) / scale
                if not np.allclose(grid, np.round(grid), rtol=0, atol=1e-9 * max(1.0, float(np.abs(grid).max()))):
                    fail(f"{name}: coordinates are not origin + scale·integer")
                a = signed_area(ring)
                if (k == 0) != (a > 0):
                    fail(f"{name}: signed area {a} has the wrong orientation")
            holes += len(rings) - 1
        g = shape(f["geometry"])
        if not g.is_valid:
            fail(f"{where}: invalid: {shapely.is_valid_reason(g)}")
        for part in (g.geoms if gtype == "MultiPolygon" else [g]):
            o = orient(part, 1.0)
            if not (o.exterior.coords[:] == part.exterior.coords[:]
                    and [r.coords[:] for r in o.interiors] == [r.coords[:] for r in part.interiors]):
                fail(f"{where}: orient(polygon, 1.0) changes it")
        geometries.append(g)
        summary_features.append({"type": gtype, "polygons": len(polygons), "holes": holes,
                                 "area": g.area, "valid": bool(g.is_valid)})

    union = unary_union(geometries) if geometries else shapely.geometry.Polygon()
    total = sum(g.area for g in geometries)
    if abs(union.area - expected) > tolerance:
        fail(f"union area {union.area} != {pixels} pixels × scale² = {expected}")
    if abs(total - union.area) > tolerance:
        fail(f"features' areas add up to {total}, their union to {union.area}: they overlap")

    h, w = mask.shape
    rasterised = None
    if h * w <= max_raster:
        ys, xs = np.mgrid[0:h, 0:w]
        cx, cy = origin[0] + scale * (xs + 0.5), origin[1] + scale * (ys + 0.5)
        rasterised = shapely.contains_xy(union, cx, cy) if geometries else np.zeros((h, w), bool)
        if not np.array_equal(rasterised, mask):
            fail(f"rasterised union differs from the mask at {int((rasterised != mask).sum())} pixels")
        labels, n = components(mask, connectivity == "eight")
        if n != len(features):
            fail(f"{len(features)} features for {n} {connectivity}-connected components")
        for i, g in enumerate(geometries):
            inside = shapely.contains_xy(g, cx, cy)
            found = np.unique(labels[inside])
            if len(found) != 1 or found[0] == 0 or not np.array_equal(inside, labels == found[0]):
                fail(f"feature {i} is not exactly one {connectivity}-connected component")
    if h * w <= 65536 and geometries:
        if not union.equals(pixel_union(mask, scale, origin)):
            fail("union is not the same point set as shapely's union of the pixel squares")

    summary = {"width": w, "height": h, "scale": scale, "origin": list(origin), "connectivity": connectivity,
               "pixels": pixels, "expected_area": expected, "union_area": union.area, "tolerance": tolerance,
               "all_valid": all(f["valid"] for f in summary_features), "rasterised": rasterised is not None,
               "features": summary_features, "failures": failures,
               "shapely": shapely.__version__, "geos": shapely.geos_version_string}
    return failures, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mask")
    parser.add_argument("geojson")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--origin", type=float, nargs=2, default=(0.0, 0.0))
    parser.add_argument("--connectivity", choices=("eight", "four"), default="eight")
    parser.add_argument("--max-raster", type=int, default=1 << 20)
    parser.add_argument("--summary", help="also write the summary JSON here")
    a = parser.parse_args()
    with open(a.geojson) as f:
        collection = json.load(f)
    failures, summary = check(collection, load_mask(a.mask), a.scale, tuple(a.origin), a.connectivity, a.max_raster)
    text = json.dumps(summary, indent=1)
    if a.summary:
        with open(a.summary, "w") as f:
            f.write(text + "\n")
    print(text)
    for line in failures:
        print(f"{a.geojson}: {line}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
