#!/usr/bin/env python3
"""Writes Tests/Fixtures/masks/: truth and tissue mask PNGs in the forms labs save them, with pypng
(a writer independent of CompSeg). Every file draws one pattern on a 5-wide, 4-high grid:

    on(x, y) = (x + 2y) % 3 == 0

"on" pixels carry the faintest value their format holds (1 of 65535 in 16 bits), "off" ones are
black or transparent (alpha 0, or a tRNS colour key / palette alpha); a mask reads true exactly where
on(x, y). `*_full.png` draws it on a 2× finer picture (each pixel a 2×2 block), to be brought down.

Run with the virtualenv of ../shared/bench/setup-torch.sh, with pypng (any version) added:
    /root/.venv-torch/bin/python -m pip install pypng
    /root/.venv-torch/bin/python tools/make_mask_fixtures.py
"""
import os

import png  # pypng

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "masks")
W, H = 5, 4


def on(x, y):
    return (x + 2 * y) % 3 == 0


def write(name, rows, **kw):
    height, width = len(rows), kw.pop("width", W)
    with open(os.path.join(OUT, name), "wb") as f:
        png.Writer(width, height, **kw).write(f, rows)


def main():
    os.makedirs(OUT, exist_ok=True)
    # 16-bit grey 0/1: read as 8 bits of light, a 1 would turn black.
    write("grey16_01.png", [[1 if on(x, y) else 0 for x in range(W)] for y in range(H)], greyscale=True, bitdepth=16)
    write("grey16_01_interlaced.png", [[1 if on(x, y) else 0 for x in range(W)] for y in range(H)],
          greyscale=True, bitdepth=16, interlace=True)
    # 16-bit grey+alpha: off pixels are bright but transparent.
    write("greya16.png", [[v for x in range(W) for v in ((1, 65535) if on(x, y) else (40000, 0))] for y in range(H)],
          greyscale=True, alpha=True, bitdepth=16)
    # 16-bit RGB: the faintest blue.
    write("rgb16.png", [[v for x in range(W) for v in ((0, 0, 1) if on(x, y) else (0, 0, 0))] for y in range(H)],
          greyscale=False, bitdepth=16)
    # 8-bit grey with a tRNS colour key (200 transparent): off pixels alternate black and the key.
    write("grey8_trns.png", [[1 if on(x, y) else (200 if x % 2 else 0) for x in range(W)] for y in range(H)],
          greyscale=True, bitdepth=8, transparent=200)
    # 8-bit RGB with white transparent.
    write("rgb8_trns.png", [[v for x in range(W) for v in ((0, 1, 0) if on(x, y) else (255, 255, 255) if x % 2 else (0, 0, 0))]
                            for y in range(H)], greyscale=False, bitdepth=8, transparent=(255, 255, 255))
    # Palette with alphas (tRNS): 0 black, 1 red, 2 red but transparent.
    write("palette_trns.png", [[1 if on(x, y) else (2 if x % 2 else 0) for x in range(W)] for y in range(H)],
          palette=[(0, 0, 0, 255), (255, 0, 0, 255), (255, 0, 0, 0)], bitdepth=8)
    # 1-bit grey.
    write("grey1.png", [[1 if on(x, y) else 0 for x in range(W)] for y in range(H)], greyscale=True, bitdepth=1)
    # 16-bit grey on a 2× finer picture.
    write("grey16_full.png", [[1 if on(x // 2, y // 2) else 0 for x in range(2 * W)] for y in range(2 * H)],
          greyscale=True, bitdepth=16, width=2 * W)
    # A whole slide's truth at 1 bit: 4096² with a 100² tumour at (1000, 2000), a few kilobytes (over
    # 4096 pixels per stored byte, as 1-bit masks of small tumours are).
    # The same as a 1-bit palette with transparency (tRNS): colour 0 transparent, colour 1 opaque white.
    write("palette1_trns_4096_sparse.png", [[1 if 2000 <= y < 2100 and 1000 <= x < 1100 else 0 for x in range(4096)] for y in range(4096)],
          palette=[(0, 0, 0, 0), (255, 255, 255, 255)], bitdepth=1, width=4096)
    write("grey1_4096_sparse.png", [[1 if 2000 <= y < 2100 and 1000 <= x < 1100 else 0 for x in range(4096)] for y in range(4096)],
          greyscale=True, bitdepth=1, width=4096)


if __name__ == "__main__":
    main()
