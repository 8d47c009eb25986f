#!/usr/bin/env python3
"""Writes Tests/Fixtures/masks/annotations.geojson, a truth mask drawn as QuPath exports annotations
(json, by hand), and annotations_expected.png (PIL, 8-bit grey 255/0), the mask it must give: a
pixel is on where its centre (c + 0.5, r + 0.5) lies inside some polygon, by the even-odd rule over
that polygon's rings. The test is computed here independently of CompSeg, by counting ring
crossings of a ray from each centre. The picture is 40 wide and 30 high; vertices are off the pixel
grid, and no centre lies on an edge, so that the rule leaves no pixel in doubt.

    /root/.venv-torch/bin/python tools/make_geojson_mask_fixtures.py
"""
import json
import os

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "masks")
W, H = 40, 30

# Each polygon: its rings (the first the exterior), positions [x, y] in pixels, y down.
TRIANGLE = [[[3.3, 2.2], [17.7, 4.1], [6.1, 16.9], [3.3, 2.2]]]
SQUARE_WITH_HOLE = [[[20.2, 2.3], [36.8, 2.3], [36.8, 14.6], [20.2, 14.6], [20.2, 2.3]],
                    [[24.4, 5.3], [31.9, 6.1], [27.2, 11.7], [24.4, 5.3]]]
DIAMOND = [[[10.1, 18.3], [16.7, 23.9], [10.1, 28.6], [3.6, 23.9]]]  # not closed: read as closed
ISLAND_PART = [[[22.3, 18.2], [38.6, 18.2], [38.6, 28.7], [22.3, 28.7], [22.3, 18.2]],
               [[25.3, 20.2], [35.6, 20.2], [35.6, 26.7], [25.3, 26.7], [25.3, 20.2]]]
ISLAND = [[[28.1, 22.2], [32.9, 22.2], [32.9, 24.8], [28.1, 24.8], [28.1, 22.2]]]


def feature(geometry, name):
    return {"type": "Feature", "id": name, "geometry": geometry,
            "properties": {"objectType": "annotation", "classification": {"name": "Tumor", "color": [200, 0, 0]}}}


def inside(polygon, x, y):
    crossings = 0
    for ring in polygon:
        closed = ring if ring[0] == ring[-1] else ring + [ring[0]]
        for (x0, y0), (x1, y1) in zip(closed, closed[1:]):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) / (y1 - y0) * (x1 - x0):
                crossings += 1
    return crossings % 2 == 1


def main():
    collection = {"type": "FeatureCollection", "features": [
        feature({"type": "Polygon", "coordinates": TRIANGLE}, "triangle"),
        feature({"type": "Polygon", "coordinates": SQUARE_WITH_HOLE}, "square with a hole"),
        feature({"type": "MultiPolygon", "coordinates": [DIAMOND, ISLAND_PART, ISLAND]}, "diamond, frame and island"),
        feature({"type": "LineString", "coordinates": [[0.5, 0.5], [39.5, 29.5]]}, "a line: no area"),
        {"type": "Feature", "geometry": None, "properties": {}},
    ]}
    with open(os.path.join(OUT, "annotations.geojson"), "w") as f:
        json.dump(collection, f, indent=1)
    polygons = [TRIANGLE, SQUARE_WITH_HOLE, DIAMOND, ISLAND_PART, ISLAND]
    mask = np.zeros((H, W), dtype=np.uint8)
    for r in range(H):
        for c in range(W):
            if any(inside(p, c + 0.5, r + 0.5) for p in polygons):
                mask[r, c] = 255
    Image.fromarray(mask, mode="L").save(os.path.join(OUT, "annotations_expected.png"))
    print(f"{int(mask.sum() // 255)} pixels on of {W * H}")


if __name__ == "__main__":
    main()
