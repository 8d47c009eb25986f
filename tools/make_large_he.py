"""Writes a large synthetic H&E slide as a tiled, JPEG-compressed RGB TIFF (as slide scanners
write them), tile by tile, so the writer never holds the image: pink stroma blobs with purple
nuclei on white. Used by tools/bench_streaming.sh to measure `compseg segment`'s memory.

Usage: $(../shared/bench/setup-torch.sh) tools/make_large_he.py OUT.tif [SIDE=20000]
(tifffile and imagecodecs from that virtualenv.)
"""
import sys

import numpy as np
import tifffile

TILE = 512


def tile(ty, tx, side):
    """Tile (ty, tx): deterministic from its position."""
    rng = np.random.default_rng(ty * 100003 + tx)
    y, x = np.mgrid[0:TILE, 0:TILE]
    gy, gx = y + ty * TILE, x + tx * TILE
    # Tissue: smooth blobs of period ~1500 px; white elsewhere and outside the image.
    field = np.sin(gy / 240.0) * np.cos(gx / 310.0) + 0.5 * np.sin((gx + gy) / 170.0)
    tissue = (field > 0.2) & (gy < side) & (gx < side)
    img = np.full((TILE, TILE, 3), 245, np.uint8)
    img[tissue] = (232, 150, 190)
    # Nuclei: small purple discs at random places inside tissue.
    for cy, cx in rng.integers(0, TILE, size=(60, 2)):
        if tissue[cy, cx]:
            d = (y - cy) ** 2 + (x - cx) ** 2 < rng.integers(9, 36)
            img[d & tissue] = (110, 60, 150)
    return img


def main():
    out = sys.argv[1]
    side = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    n = (side + TILE - 1) // TILE
    tiles = (tile(ty, tx, side) for ty in range(n) for tx in range(n))
    tifffile.imwrite(out, tiles, shape=(side, side, 3), dtype=np.uint8, tile=(TILE, TILE),
                     photometric="rgb", compression="jpeg", bigtiff=True)


if __name__ == "__main__":
    main()
