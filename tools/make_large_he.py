"""Writes a large synthetic H&E slide as a tiled, JPEG-compressed RGB TIFF (as slide scanners
write them), tile by tile, so the writer never holds the image: pink stroma blobs with purple
nuclei on white. Used by tools/bench_streaming.sh to measure `compseg segment`'s memory. With
TRUTH.png, also a true tumor mask of the same size: the cores of the blobs (8-bit PNG, 255 tumor).

Usage: $(../shared/bench/setup-torch.sh) tools/make_large_he.py OUT.tif [SIDE=20000] [TRUTH.png]
(tifffile, imagecodecs and PIL from that virtualenv.)
"""
import sys

import numpy as np
import tifffile

TILE = 512


def field(gy, gx):
    """Tissue where it exceeds 0.2 (smooth blobs of period ~1500 px), tumor where it exceeds 0.9."""
    return np.sin(gy / 240.0) * np.cos(gx / 310.0) + 0.5 * np.sin((gx + gy) / 170.0)


def tile(ty, tx, side):
    """Tile (ty, tx): deterministic from its position."""
    rng = np.random.default_rng(ty * 100003 + tx)
    y, x = np.mgrid[0:TILE, 0:TILE]
    gy, gx = y + ty * TILE, x + tx * TILE
    tissue = field(gy, gx) > 0.2
    tissue &= (gy < side) & (gx < side)
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
    if len(sys.argv) > 3:
        from PIL import Image
        truth = np.zeros((side, side), np.uint8)
        for y0 in range(0, side, TILE):
            gy, gx = np.mgrid[y0:min(side, y0 + TILE), 0:side]
            truth[y0:y0 + TILE] = np.where(field(gy, gx) > 0.9, 255, 0)
        Image.fromarray(truth).save(sys.argv[3], optimize=False)


if __name__ == "__main__":
    main()
