"""Writes Tests/Fixtures/geojson/: small mask PNGs (PIL), their GeoJSON from MaskPolygons, and
expected.json with shapely's verdict on each (tools/check_geojson.py).

Usage (from the repository root; PY has numpy, Pillow and shapely — see tools/check_geojson.py):
    swiftc -O -module-name CompSegIO tools/write_mask_geojson.swift Sources/CompSegIO/MaskPolygons.swift \
           Sources/CompSegIO/{IOError,Folders,DurableWrites,Interruption}.swift -o /tmp/write_mask_geojson
    $PY tools/make_geojson_fixtures.py /tmp/write_mask_geojson

The masks are drawn below as rows of `#` (foreground) and `.`; the PNGs are 8-bit gray, 255 and 0.
The GeoJSON files are CompSeg's own output (MaskPolygons, through write_mask_geojson), kept as golden
files; shapely judges each one independently: valid, union area equal to the pixel count × scale²
(exact), rasterised back to the mask, and the same point set as shapely's own union of the pixel
squares. The script fails, writing nothing to expected.json, when any check fails. Output is
deterministic; rerunning rewrites the same bytes.
"""
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_geojson import check, load_mask  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "geojson")

MASKS = {
    # A frame touching the top and left border. Its left side and bottom meet only at a corner
    # (bottom left), where its hole reaches the outside background: the hole touches the exterior at
    # that point. In the hole, a ring with a hole holding one pixel. Two parts beyond the frame's
    # bottom-right corner meet it, and each other, at corners only (one MultiPolygon of three parts
    # with connectivity eight, three features with four); the last runs into the image's corner.
    "nested": ["#########...",
               "#.......#...",
               "#.#####.#...",
               "#.#...#.#...",
               "#.#.#.#.#...",
               "#.#...#.#...",
               "#.#####.#...",
               "#.......#...",
               ".########...",
               ".........#..",
               "..........##",
               "...........#"],
    # Corner contacts: a diamond of 4 pixels around a background pixel (a MultiPolygon of 4 squares;
    # the centre is in no polygon); a block with two one-pixel holes that touch at a corner, and a
    # zigzag of single pixels that meets the block at a corner (one MultiPolygon of 5 parts).
    "diagonals": [".#......",
                  "#.#.####",
                  ".#..#.##",
                  "....##.#",
                  "#.#.####",
                  ".#.#...."],
    # A ring and two single pixels on the border, for scale and origin.
    "region": ["......#",
               ".####..",
               ".#..#..",
               ".####..",
               "......#"],
}

# (GeoJSON file, mask, writer options)
FIXTURES = [
    ("nested.geojson", "nested", {"connectivity": "eight"}),
    ("nested-four.geojson", "nested", {"connectivity": "four"}),
    ("diagonals.geojson", "diagonals", {"connectivity": "eight"}),
    ("diagonals-four.geojson", "diagonals", {"connectivity": "four"}),
    ("region-x4.geojson", "region", {"connectivity": "eight", "scale": 4.0, "origin": (1024.0, 2048.0)}),
    ("region-x2.5.geojson", "region", {"connectivity": "eight", "scale": 2.5, "origin": (10.5, 20.25),
                                       "name": 'Tumour "core"', "colour": (0, 128, 255)}),
]


def main():
    writer = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    for name, rows in MASKS.items():
        a = np.array([[c == "#" for c in row] for row in rows], dtype=np.uint8) * 255
        Image.fromarray(a, mode="L").save(os.path.join(OUT, f"{name}.png"))
    expected, failed = {}, False
    for file, mask, options in FIXTURES:
        scale, origin = options.get("scale", 1.0), options.get("origin", (0.0, 0.0))
        command = [writer, os.path.join(OUT, file), "--connectivity", options["connectivity"],
                   "--scale", repr(scale), "--origin", repr(origin[0]), repr(origin[1])]
        if "name" in options:
            command += ["--name", options["name"], "--colour", *map(str, options["colour"])]
        subprocess.run(command, input="\n".join(MASKS[mask]) + "\n", text=True, check=True)
        with open(os.path.join(OUT, file)) as f:
            collection = json.load(f)
        failures, summary = check(collection, load_mask(os.path.join(OUT, f"{mask}.png")),
                                  scale, origin, options["connectivity"])
        for line in failures:
            print(f"{file}: {line}", file=sys.stderr)
        failed |= bool(failures)
        summary.pop("shapely"), summary.pop("geos")
        summary = {"mask": f"{mask}.png", "classification": options.get("name", "Tumor"),
                   "colour": list(options.get("colour", (200, 0, 0))), **summary}
        expected[file] = summary
    if failed:
        sys.exit(1)
    import shapely
    expected = {"written_by": "tools/make_geojson_fixtures.py",
                "judge": f"shapely {shapely.__version__}, GEOS {shapely.geos_version_string}", **expected}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
