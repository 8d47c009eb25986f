"""Writes the TIFF and PNG files that the RasterFile tests read: Tests/Fixtures/raster/*.

Usage (from the repository root):
    PY=$(../shared/bench/setup-torch.sh)    # a python with numpy, tifffile, imagecodecs, PIL
    $PY -m pip install pypng                # the PNG writer (pure Python; any version)
    $PY tools/make_raster_fixtures.py [OUTPUT_FOLDER]

Every file comes from writers independent of CompSeg and of libtiff/libpng's readers: tifffile
(with imagecodecs' codecs) writes the TIFFs, pypng and PIL write the PNGs. The pixels each reader
must return are stored next to them, in expected/*.bin (raw little-endian uint8 or uint16 samples,
rows × columns × channels, as RasterFile returns them: grey 1 channel, palette expanded to RGB,
min-is-white inverted, premultiplied colours divided by alpha; opacity apart in expected/a*.bin); manifest.json says which .bin belongs to which file and
level, with the divisor (255 or 65535) that turns samples into RasterFile's values.
Lossless files expect the arrays written; JPEG files expect what tifffile/imagecodecs (libjpeg-turbo)
decodes from the written file, so the Swift reader (libtiff's JPEG decoder) is checked against an
independent decoder within a tolerance. PNGs are decoded back with PIL or imagecodecs here, as a check
on the writer. Output is deterministic (fixed seeds); rerunning rewrites the same files.
README.md in the output folder lists every file and how it was written. (imagecodecs' libpng may print
"PNG warning: Interlace handling should be turned on" while checking the interlaced PNGs: harmless.)
"""
import hashlib
import json
import os
import struct
import sys
import zlib

import imagecodecs
import numpy as np
import png  # pypng
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "Fixtures", "raster")
W, H = 37, 29  # 8-bit images: not multiples of the 16×16 tiles or of the strips
W16, H16 = 21, 19  # 16-bit images (smaller: their noisy low bytes do not compress)
TILE = (16, 16)

manifest = {"files": {}, "unsupported": {}}
readme_rows = []
alpha_names = {}  # the same for opacity planes (a…bin, numbered apart so the e…bin names stay put)
expected_names = {}  # sha1 of expected bytes -> .bin name, to share identical expectations


def he_like(width, height, seed, depth=8):
    """An H&E-looking RGB image: pink stroma, purple nuclei blobs, white gaps, a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.empty((height, width, 3))
    img[..., 0] = 0.90 - 0.10 * np.sin(x / 7.0)
    img[..., 1] = 0.55 + 0.10 * np.cos(y / 5.0)
    img[..., 2] = 0.75 + 0.05 * np.sin((x + y) / 9.0)
    for _ in range(max(3, width * height // 120)):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(1.5, 4.0)
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        img = img * (1 - blob) + np.array([0.35, 0.20, 0.55]) * blob
    gap = ((x - width * 0.7) ** 2 + (y - height * 0.3) ** 2) < (min(width, height) * 0.12) ** 2
    img[gap] = [0.97, 0.96, 0.98]
    img += rng.normal(0, 0.004 if depth == 8 else 0.0005, img.shape)  # ±1 level at 8 bits, ±33 at 16
    top = (1 << depth) - 1
    img = np.clip(np.rint(img * top), 0, top)
    img[0, 0], img[0, 1] = 0, top  # the extremes, so 0 and 1 are both checked
    return img.astype(np.uint8 if depth == 8 else np.uint16)


RGB8 = he_like(W, H, 1)
RGB16 = he_like(W16, H16, 2, depth=16)
GREY8 = (RGB8.astype(np.int64) @ np.array([77, 150, 29], dtype=np.int64) >> 8).astype(np.uint8)
GREY16 = (RGB16.astype(np.int64) @ np.array([19595, 38470, 9471], dtype=np.int64) >> 16).astype(np.uint16)
GREY8[0, 0], GREY8[0, 1], GREY16[0, 0], GREY16[0, 1] = 0, 255, 0, 65535
ALPHA8 = ((np.arange(W)[None, :, None] * 9 + np.arange(H)[:, None, None] * 5) % 256).astype(np.uint8)
ALPHA16 = ((np.arange(W16)[None, :, None] * 2311 + np.arange(H16)[:, None, None] * 977) % 65536).astype(np.uint16)
INDEX8 = np.random.default_rng(5).integers(0, 256, (H, W), dtype=np.uint8)
# A 16-bit colour map whose entries use all 16 bits (not multiples of 257).
COLORMAP = np.random.default_rng(6).integers(0, 65536, (3, 256), dtype=np.uint16)
COLORMAP[:, 0] = 0
COLORMAP[:, 1] = 65535


def expected_file(array):
    """Stores `array` (H×W×C, uint8/uint16) once under expected/, returning its name."""
    a = np.ascontiguousarray(array if array.ndim == 3 else array[..., None])
    data = a.astype(a.dtype.newbyteorder("<")).tobytes()
    digest = hashlib.sha1(data + str(a.shape).encode()).hexdigest()
    if digest not in expected_names:
        name = f"e{len(expected_names):02d}_{a.shape[1]}x{a.shape[0]}x{a.shape[2]}_u{8 * a.itemsize}.bin"
        expected_names[digest] = name
        with open(os.path.join(OUT, "expected", name), "wb") as f:
            f.write(data)
    return expected_names[digest], a


def alpha_file(array):
    """Stores an opacity plane (H×W or H×W×1) once under expected/ as a…bin, returning its name."""
    a = np.ascontiguousarray(array.reshape(array.shape[0], array.shape[1], 1))
    data = a.astype(a.dtype.newbyteorder("<")).tobytes()
    digest = hashlib.sha1(data + str(a.shape).encode()).hexdigest()
    if digest not in alpha_names:
        name = f"a{len(alpha_names):02d}_{a.shape[1]}x{a.shape[0]}x1_u{8 * a.itemsize}.bin"
        alpha_names[digest] = name
        with open(os.path.join(OUT, "expected", name), "wb") as f:
            f.write(data)
    return alpha_names[digest]


def level_entry(array, page, subifd=None, tolerance=0, alpha=None):
    name, a = expected_file(array)
    entry = {"expected": name, "height": a.shape[0], "width": a.shape[1], "channels": a.shape[2],
             "bits": 8 * a.itemsize, "divisor": 255 if a.itemsize == 1 else 65535,
             "page": page, "subifd": subifd, "tolerance": tolerance}
    if alpha is not None:
        entry["alpha"] = alpha_file(alpha)
    return entry


def record(name, how, levels, fmt="TIFF", images=None):
    manifest["files"][name] = {"format": fmt, "images": images or len(levels), "levels": levels}
    readme_rows.append((name, how))


def tif(name, data, how, expected, alpha=None, tolerance=0, **kw):
    """One single-image TIFF written by tifffile with `kw`; `expected` the reader's colours, `alpha` its opacity."""
    kw.setdefault("metadata", None)
    tifffile.imwrite(os.path.join(OUT, name), data, **kw)
    fmt = "BigTIFF" if kw.get("bigtiff") else "TIFF"
    record(name, how, [level_entry(expected, 0, alpha=alpha, tolerance=tolerance)], fmt)


def planar(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 0))


def decoded(name, level=None):
    """What tifffile (imagecodecs' libjpeg-turbo) decodes: page 0, or series level `level`."""
    with tifffile.TiffFile(os.path.join(OUT, name)) as t:
        return t.series[0].levels[level].asarray() if level is not None else t.pages[0].asarray()


def jpeg_tif(name, data, how, **kw):
    kw.setdefault("metadata", None)
    kw.setdefault("compressionargs", {"level": 90})
    tifffile.imwrite(os.path.join(OUT, name), data, compression="jpeg", **kw)
    got, written = decoded(name), data
    if kw.get("planarconfig") == "separate":
        got, written = np.moveaxis(got, 0, -1), np.moveaxis(data, 0, -1)
    err = np.abs(got.astype(int) - written.astype(int)).max()
    fmt = "BigTIFF" if kw.get("bigtiff") else "TIFF"
    record(name, how + f"; expected = tifffile's decode (differs from the written array by up to {err})",
           [level_entry(got, 0, tolerance=-1)], fmt)


def write_tiffs():
    strips, tiles = {"rowsperstrip": 5}, {"tile": TILE}
    for comp, label, extra in [(None, "none", {}), ("lzw", "lzw", {"predictor": True}),
                               ("zlib", "deflate", {"predictor": True}), ("packbits", "packbits", {})]:
        for layout, lname in [(strips, "strips"), (tiles, "tiles")]:
            tif(f"rgb8_{label}_{lname}.tif", RGB8, f"8-bit RGB, contiguous, {label}{' + horizontal predictor' if extra else ''}, "
                f"{'strips of 5 rows' if lname == 'strips' else '16×16 tiles'}", RGB8,
                photometric="rgb", compression=comp, **extra, **layout)
    tif("rgb8_onestrip_none.tif", RGB8, "8-bit RGB, uncompressed, one strip (libtiff chops it)", RGB8,
        photometric="rgb", rowsperstrip=H)
    tif("rgb8_planar_none_strips.tif", planar(RGB8), "8-bit RGB, separate planes, uncompressed, strips of 5 rows", RGB8,
        photometric="rgb", planarconfig="separate", rowsperstrip=5)
    tif("rgb8_planar_lzw_tiles.tif", planar(RGB8), "8-bit RGB, separate planes, LZW, 16×16 tiles", RGB8,
        photometric="rgb", planarconfig="separate", compression="lzw", tile=TILE)
    tif("rgb8_planar_deflate_strips.tif", planar(RGB8), "8-bit RGB, separate planes, Deflate + predictor, strips of 7 rows",
        RGB8, photometric="rgb", planarconfig="separate", compression="zlib", predictor=True, rowsperstrip=7)
    tif("rgb8_bigendian_lzw_tiles.tif", RGB8, "8-bit RGB, big-endian (MM), LZW, 16×16 tiles", RGB8,
        photometric="rgb", compression="lzw", tile=TILE, byteorder=">")

    tif("rgb16_none_strips.tif", RGB16, "16-bit RGB, uncompressed, strips of 5 rows", RGB16, photometric="rgb", rowsperstrip=5)
    tif("rgb16_deflate_tiles.tif", RGB16, "16-bit RGB, Deflate + horizontal predictor, 16×16 tiles", RGB16,
        photometric="rgb", compression="zlib", predictor=True, tile=TILE)
    tif("rgb16_lzw_planar_tiles.tif", planar(RGB16), "16-bit RGB, separate planes, LZW, 16×16 tiles", RGB16,
        photometric="rgb", planarconfig="separate", compression="lzw", tile=TILE)
    tif("rgb16_bigendian_none_strips.tif", RGB16, "16-bit RGB, big-endian (MM), uncompressed, strips of 5 rows", RGB16,
        photometric="rgb", rowsperstrip=5, byteorder=">")
    tif("rgb16_bigendian_deflate_tiles.tif", RGB16, "16-bit RGB, big-endian (MM), Deflate + predictor, 16×16 tiles", RGB16,
        photometric="rgb", compression="zlib", predictor=True, tile=TILE, byteorder=">")
    tif("rgb16_packbits_strips.tif", RGB16, "16-bit RGB, PackBits, strips of 5 rows", RGB16,
        photometric="rgb", compression="packbits", rowsperstrip=5)

    rgba8, rgba16 = np.concatenate([RGB8, ALPHA8], -1), np.concatenate([RGB16, ALPHA16], -1)
    tif("rgba8_lzw_tiles.tif", rgba8, "8-bit RGBA (unassociated alpha), LZW, 16×16 tiles; alpha kept apart", RGB8,
        alpha=ALPHA8, photometric="rgb", extrasamples=["unassalpha"], compression="lzw", tile=TILE)
    tif("rgba8_planar_none_strips.tif", planar(rgba8), "8-bit RGBA, separate planes, uncompressed, strips of 5 rows", RGB8,
        alpha=ALPHA8, photometric="rgb", extrasamples=["unassalpha"], planarconfig="separate", rowsperstrip=5)

    tif("grey8_lzw_strips.tif", GREY8, "8-bit min-is-black grey, LZW, strips of 5 rows", GREY8,
        photometric="minisblack", compression="lzw", rowsperstrip=5)
    tif("grey8_none_tiles.tif", GREY8, "8-bit min-is-black grey, uncompressed, 16×16 tiles", GREY8,
        photometric="minisblack", tile=TILE)
    tif("grey16_deflate_tiles.tif", GREY16, "16-bit min-is-black grey, Deflate + predictor, 16×16 tiles", GREY16,
        photometric="minisblack", compression="zlib", predictor=True, tile=TILE)
    tif("grey16_bigendian_strips.tif", GREY16, "16-bit min-is-black grey, big-endian, uncompressed, strips of 5 rows", GREY16,
        photometric="minisblack", rowsperstrip=5, byteorder=">")
    tif("grey8_miniswhite_packbits_strips.tif", GREY8, "8-bit min-is-white grey, PackBits, strips of 5 rows; expected 255 - stored",
        255 - GREY8, photometric="miniswhite", compression="packbits", rowsperstrip=5)
    tif("grey16_miniswhite_none_tiles.tif", GREY16, "16-bit min-is-white grey, uncompressed, 16×16 tiles; expected 65535 - stored",
        65535 - GREY16, photometric="miniswhite", tile=TILE)
    tif("greya8_deflate_tiles.tif", np.concatenate([GREY8[..., None], ALPHA8], -1),
        "8-bit grey + unassociated alpha, Deflate, 16×16 tiles; alpha kept apart", GREY8,
        alpha=ALPHA8, photometric="minisblack", extrasamples=["unassalpha"], compression="zlib", tile=TILE)

    pal = np.moveaxis(COLORMAP[:, INDEX8], 0, -1)
    tif("palette8_lzw_strips.tif", INDEX8, "8-bit palette (16-bit colour map using all 16 bits), LZW, strips of 5 rows; "
        "expected = colour map entries / 65535", pal, photometric="palette", colormap=COLORMAP, compression="lzw", rowsperstrip=5)
    tif("palette8_none_tiles.tif", INDEX8, "8-bit palette, uncompressed, 16×16 tiles", pal,
        photometric="palette", colormap=COLORMAP, tile=TILE)

    jpeg_tif("rgb8_jpeg_ycbcr_tiles.tif", RGB8, "JPEG (quality 90), YCbCr 4:2:0 (subsampling 2×2), 16×16 tiles",
             photometric="rgb", tile=TILE)
    jpeg_tif("rgb8_jpeg_ycbcr_strips.tif", RGB8, "JPEG, YCbCr 4:2:0, strips of 16 rows", photometric="rgb", rowsperstrip=16)
    jpeg_tif("rgb8_jpeg_ycbcr444_tiles.tif", RGB8, "JPEG, YCbCr without subsampling (1×1), 16×16 tiles",
             photometric="rgb", subsampling=(1, 1), tile=TILE)
    jpeg_tif("rgb8_jpeg_rgb_tiles.tif", RGB8, "JPEG stored as RGB (PhotometricInterpretation 2, no YCbCr), 16×16 tiles",
             photometric="rgb", tile=TILE, compressionargs={"level": 90, "outcolorspace": "rgb"})
    jpeg_tif("grey8_jpeg_tiles.tif", GREY8, "JPEG grey (min-is-black), 16×16 tiles", photometric="minisblack", tile=TILE)
    jpeg_tif("rgb8_jpeg_planar_tiles.tif", planar(RGB8), "JPEG RGB in separate planes (each plane a grey JPEG), 16×16 tiles",
             photometric="rgb", planarconfig="separate", tile=TILE)

    tif("bigtiff_rgb8_deflate_tiles.tif", RGB8, "BigTIFF, 8-bit RGB, Deflate, 16×16 tiles", RGB8,
        bigtiff=True, photometric="rgb", compression="zlib", tile=TILE)
    tif("bigtiff_rgb16_none_strips.tif", RGB16, "BigTIFF, 16-bit RGB, uncompressed, strips of 5 rows", RGB16,
        bigtiff=True, photometric="rgb", rowsperstrip=5)
    jpeg_tif("bigtiff_rgb8_jpeg_tiles.tif", RGB8, "BigTIFF, JPEG YCbCr 4:2:0, 16×16 tiles", bigtiff=True, photometric="rgb", tile=TILE)


def downsample(a):
    """2×2 mean (rounded), dropping an odd last row/column: each pyramid level from the one above."""
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    s = a[:h, :w].astype(np.uint32)
    return ((s[0::2, 0::2] + s[1::2, 0::2] + s[0::2, 1::2] + s[1::2, 1::2] + 2) // 4).astype(a.dtype)


def write_pyramids():
    base = he_like(48, 40, 7)
    l1, l2 = downsample(base), downsample(downsample(base))
    other = he_like(20, 15, 8)

    name = "pyramid_subifds.tif"
    with tifffile.TiffWriter(os.path.join(OUT, name)) as t:
        t.write(base, subifds=2, photometric="rgb", tile=TILE, compression="zlib", metadata=None)
        t.write(l1, subfiletype=1, photometric="rgb", tile=TILE, compression="zlib", metadata=None)
        t.write(l2, subfiletype=1, photometric="rgb", tile=TILE, compression="zlib", metadata=None)
        t.write(other, photometric="rgb", tile=TILE, compression="zlib", metadata=None)  # page 1: another series
    record(name, "OME-TIFF-style pyramid: page 0 48×40 with 2 SubIFDs (24×20, 12×10, NewSubfileType 1), Deflate, "
           "16×16 tiles; page 1 (20×15) is another image, not a level",
           [level_entry(base, 0), level_entry(l1, 0, 0), level_entry(l2, 0, 1)], images=4)

    name = "pyramid_subifds_jpeg_bigtiff.tif"
    with tifffile.TiffWriter(os.path.join(OUT, name), bigtiff=True) as t:
        kw = dict(photometric="rgb", tile=TILE, compression="jpeg", compressionargs={"level": 90}, metadata=None)
        t.write(base, subifds=2, **kw)
        t.write(l1, subfiletype=1, **kw)
        t.write(l2, subfiletype=1, **kw)
    levels = [level_entry(decoded(name, k), 0, None if k == 0 else k - 1, tolerance=-1) for k in range(3)]
    record(name, "BigTIFF pyramid as page 0 + 2 SubIFDs, JPEG YCbCr 4:2:0 tiles; expected = tifffile's decode of each level",
           levels, fmt="BigTIFF", images=3)

    name = "svs_like.tif"
    thumb, label = downsample(l2), he_like(12, 8, 9)
    macro = he_like(24, 16, 10)
    with tifffile.TiffWriter(os.path.join(OUT, name)) as t:
        t.write(base, photometric="rgb", tile=TILE, compression="zlib", metadata=None, description="Aperio-like level 0")
        t.write(thumb, photometric="rgb", rowsperstrip=4, compression="zlib", metadata=None, description="thumbnail")
        t.write(l1, photometric="rgb", tile=TILE, compression="zlib", metadata=None)
        t.write(l2, photometric="rgb", tile=TILE, compression="zlib", metadata=None)
        t.write(label, photometric="rgb", rowsperstrip=4, compression="lzw", subfiletype=1, metadata=None, description="label")
        t.write(macro, photometric="rgb", rowsperstrip=16, compression="jpeg", subfiletype=9, metadata=None, description="macro")
    record(name, "SVS-like: page 0 48×40 tiled, page 1 thumbnail 6×5 in strips, pages 2-3 tiled 24×20 and 12×10, page 4 label "
           "(strips, LZW, NewSubfileType 1), page 5 macro (strips, JPEG, NewSubfileType 9); levels = pages 0, 2, 3",
           [level_entry(base, 0), level_entry(l1, 2), level_entry(l2, 3)], images=6)

    name = "multipage_strips.tif"
    pages = [he_like(21, 19, 11), he_like(21, 19, 12), he_like(21, 19, 13)]
    with tifffile.TiffWriter(os.path.join(OUT, name)) as t:
        for p in pages:
            t.write(p, photometric="rgb", rowsperstrip=8, compression="lzw", metadata=None)
    record(name, "3 pages 21×19 in strips (LZW), no SubIFDs: levels = pages 0, 1, 2",
           [level_entry(p, i) for i, p in enumerate(pages)])


def write_unsupported():
    def bad(name, data, how, reason, **kw):
        data = data[:6, :8]  # small: only the tags matter
        tifffile.imwrite(os.path.join(OUT, name), data, metadata=None, **kw)
        manifest["unsupported"][name] = reason
        readme_rows.append((name, how + f" — refused: `{reason}`"))

    bits = (GREY8 > 128)
    bad("bilevel1.tif", bits, "1-bit min-is-black", "BitsPerSample (258) = 1", photometric="minisblack")
    bad("float32_rgb.tif", RGB8.astype(np.float32) / 255, "32-bit float RGB", "BitsPerSample (258) = 32", photometric="rgb")
    bad("int16_grey.tif", GREY16.astype(np.int16), "16-bit signed grey", "SampleFormat (339) = 2", photometric="minisblack")
    bad("cmyk8.tif", np.concatenate([RGB8, ALPHA8], -1), "8-bit CMYK (separated)", "PhotometricInterpretation (262) = 5",
        photometric="separated")
    bad("ycbcr8_none.tif", RGB8, "uncompressed YCbCr (tifffile, subsampling 1×1)", "PhotometricInterpretation (262) = 6",
        photometric="ycbcr")
    bad("jpeg2000_rgb8.tif", RGB8, "JPEG 2000 (Compression 34712)", "Compression (259) = 34712", photometric="rgb",
        compression="jpeg2000")
    markers = np.stack([GREY8[:6, :8] // (k + 1) for k in range(5)], -1)
    bad("markers5_grey.tif", markers, "5 markers: min-is-black with 4 unspecified extra samples",
        "SamplesPerPixel (277) = 5: 1 grey sample and 4 extra samples that are not alpha", photometric="minisblack",
        planarconfig="contig", extrasamples=["unspecified"] * 4)
    bad("rgb8_2extra.tif", np.concatenate([RGB8[:6, :8], markers[..., :2]], -1), "RGB with 2 unspecified extra samples",
        "SamplesPerPixel (277) = 5: 3 colour samples and 2 extra samples that are not alpha", photometric="rgb",
        planarconfig="contig", extrasamples=["unspecified"] * 2)


def write_premultiplied():
    """Associated (premultiplied) alpha: the colours stored are colour × opacity, and the reader
    divides them back (at most 1; 0 where transparent), within one 16-bit step of rounding."""
    a = ALPHA16.astype(np.float64)
    stored = np.round(RGB16 * a / 65535).astype(np.uint16)
    seen = np.where(a > 0, np.minimum(1, stored / np.maximum(a, 1)), 0)
    tif("rgba16_deflate_strips.tif", np.concatenate([stored, ALPHA16], -1),
        "16-bit RGBA (associated alpha: colours premultiplied), Deflate, strips of 5 rows; expected = stored ÷ alpha "
        "(at most 1, within one step)", np.round(seen * 65535).astype(np.uint16), alpha=ALPHA16, tolerance=1,
        photometric="rgb", extrasamples=["assocalpha"], compression="zlib", rowsperstrip=5)


def write_sparse():
    """Tiles the file does not store (offset and byte count 0, as slide scanners leave glass they
    skipped): tifffile writes every tile, then tiles 0 and 4 (x 0, y 0 and x 16, y 16) are made
    unstored by zeroing their entries; the reader gives them white, transparent where there is alpha."""
    sparse = [0, 4]
    def unstored(a, value):
        a = a.copy()
        across = -(-W // TILE[1])
        for t in sparse:
            y, x = t // across * TILE[0], t % across * TILE[1]
            a[y:y + TILE[0], x:x + TILE[1]] = value
        return a
    rgba8 = np.concatenate([RGB8, ALPHA8], -1)
    for name, data, extra, alpha in [("rgb8_sparse_deflate_tiles.tif", RGB8, {}, None),
                                     ("rgba8_sparse_deflate_tiles.tif", rgba8, {"extrasamples": ["unassalpha"]}, unstored(ALPHA8, 0))]:
        path = os.path.join(OUT, name)
        tifffile.imwrite(path, data, photometric="rgb", compression="zlib", tile=TILE, metadata=None, **extra)
        places = tile_index_places(path)
        raw = bytearray(open(path, "rb").read())
        for start, size, count in places:
            assert count * size > 4  # the entries lie out of line
            for tile in sparse:
                raw[start + size * tile:start + size * tile + size] = bytes(size)
        with open(path, "wb") as f:
            f.write(raw)
        record(name, f"8-bit RGB{'A' if alpha is not None else ''}, Deflate, 16×16 tiles, tiles {sparse} not stored (offset and "
               "byte count 0); expected = white there" + (", opacity 0" if alpha is not None else ""),
               [level_entry(unstored(RGB8, 255), 0, alpha=alpha)])


def refused(name, raw, how, reason):
    """Writes `raw` as `name`, a file the readers must refuse with a message holding `reason`."""
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(raw)
    manifest["unsupported"][name] = reason
    readme_rows.append((name, f"{how} — refused: `{reason}`"))


def write_jpeg_padding():
    """JPEG tiles with 16 zero bytes before each end marker: libjpeg warns of "extraneous bytes before marker 0xd9",
    as it does of damaged data that leaves coded bytes over (and zero bits may hide data gone out of step), so it is
    refused, as damage is."""
    name = "rgb8_jpeg_padded_tiles.tif"
    path = os.path.join(OUT, name)
    tifffile.imwrite(path, RGB8, photometric="rgb", compression="jpeg", compressionargs={"level": 90}, tile=TILE, metadata=None)
    with tifffile.TiffFile(path) as t:
        pieces = list(zip(t.pages[0].dataoffsets, t.pages[0].databytecounts))
    places = tile_index_places(path)
    raw = bytearray(open(path, "rb").read())
    for tile, (offset, count) in enumerate(pieces):
        data = bytes(raw[offset:offset + count])
        assert data.endswith(b"\xff\xd9")
        padded = data[:-2] + bytes(16) + b"\xff\xd9"
        for (start, size, _), value in zip(places, (len(raw), len(padded))):
            raw[start + size * tile:start + size * tile + size] = value.to_bytes(size, "little")
        raw += padded
    refused(name, raw, "JPEG (quality 90), 16×16 tiles, each padded with 16 zero bytes before its end marker",
            "extraneous bytes before marker 0xd9")


def write_unstored():
    """A tiled TIFF none of whose tiles is stored (every offset and byte count 0): refused as holding no pixels."""
    name = "rgb8_unstored_tiles.tif"
    path = os.path.join(OUT, name)
    tifffile.imwrite(path, RGB8, photometric="rgb", compression="zlib", tile=TILE, metadata=None)
    places = tile_index_places(path)
    raw = bytearray(open(path, "rb").read())
    for start, size, count in places:
        raw[start:start + size * count] = bytes(size * count)
    refused(name, raw, "8-bit RGB, Deflate, 16×16 tiles, none stored",
            "stores none of its strips or tiles (each has offset and byte count 0): it holds no pixels")


def write_deflate_bomb():
    """A 16×16 grey Deflate tile whose stream inflates to 4 MiB of zeros (appended to the file, tile 0
    pointed at it): refused, where a second inflate to the stream's end would walk it all."""
    name = "grey8_deflate_bomb_tile.tif"
    path = os.path.join(OUT, name)
    tifffile.imwrite(path, GREY8[:16, :16], photometric="minisblack", compression="zlib", tile=(16, 16), metadata=None)
    with tifffile.TiffFile(path) as t:
        tags = t.pages[0].tags
        offsets, counts = tags["TileOffsets"], tags["TileByteCounts"]
        assert len(t.pages[0].dataoffsets) == 1  # one tile: its offset and count lie in the entries themselves
        places = [(offsets.offset + 8, offsets.dtype), (counts.offset + 8, counts.dtype)]
    raw = bytearray(open(path, "rb").read())
    bomb = zlib.compress(bytes(4 << 20), 9)
    for (place, dtype), value in zip(places, (len(raw), len(bomb))):
        assert int(dtype) == 4  # LONG
        raw[place:place + 4] = struct.pack("<I", value)
    refused(name, raw + bomb, f"16×16 grey, Deflate, its one tile's stream 4 MiB of zeros ({len(bomb)} bytes)",
            "holds damaged Deflate data (they decode to more than")


def tile_index_places(path):
    """Where page 0's TileOffsets and TileByteCounts entries lie (out of line: more than one tile), their size
    (SHORT 2 bytes, LONG 4, LONG8 8) and count."""
    with tifffile.TiffFile(path) as t:
        tags = t.pages[0].tags
        return [(tags[key].valueoffset, {3: 2, 4: 4, 16: 8}[int(tags[key].dtype)], len(t.pages[0].dataoffsets))
                for key in ("TileOffsets", "TileByteCounts")]


def write_png(name, how, rows_array, expected, *, greyscale, alpha, bitdepth, palette=None, interlace=False, check=True,
              opacity=None, transparent=None):
    """Writes with pypng; checks the file decodes (imagecodecs/PIL) to the array written."""
    h, w = rows_array.shape[:2]
    flat = rows_array.reshape(h, -1)
    writer = png.Writer(w, h, greyscale=greyscale, alpha=alpha, bitdepth=bitdepth, palette=palette, interlace=interlace,
                        compression=9, transparent=transparent)
    with open(os.path.join(OUT, name), "wb") as f:
        writer.write(f, flat.tolist())
    if check:
        if bitdepth >= 8 and palette is None:
            got = imagecodecs.png_decode(open(os.path.join(OUT, name), "rb").read())
            assert np.array_equal(got.reshape(rows_array.shape), rows_array), name
        else:
            got = np.asarray(Image.open(os.path.join(OUT, name)).convert("RGB" if palette is not None else "L"))
            assert np.array_equal(got.reshape(expected.shape), expected), name
    record(name, how, [level_entry(expected, 0, alpha=opacity)], fmt="PNG")


def write_pngs():
    g8, g16, rgb8, rgb16 = GREY8, GREY16, RGB8, RGB16
    ga8, ga16 = np.concatenate([g8[..., None], ALPHA8], -1), np.concatenate([g16[..., None], ALPHA16], -1)
    rgba8, rgba16 = np.concatenate([rgb8, ALPHA8], -1), np.concatenate([rgb16, ALPHA16], -1)
    for interlace in (False, True):
        tag, note = ("_interlaced", ", Adam7-interlaced") if interlace else ("", "")
        write_png(f"grey8{tag}.png", f"8-bit grey{note}", g8, g8, greyscale=True, alpha=False, bitdepth=8, interlace=interlace)
        write_png(f"grey16{tag}.png", f"16-bit grey{note}", g16, g16, greyscale=True, alpha=False, bitdepth=16, interlace=interlace)
        write_png(f"greya8{tag}.png", f"8-bit grey + alpha{note}; alpha kept apart", ga8, g8, greyscale=True, alpha=True, bitdepth=8,
                  interlace=interlace, opacity=ALPHA8)
        write_png(f"greya16{tag}.png", f"16-bit grey + alpha{note}; alpha kept apart", ga16, g16, greyscale=True, alpha=True,
                  bitdepth=16, interlace=interlace, opacity=ALPHA16)
        write_png(f"rgb8{tag}.png", f"8-bit RGB{note}", rgb8, rgb8, greyscale=False, alpha=False, bitdepth=8, interlace=interlace)
        write_png(f"rgb16{tag}.png", f"16-bit RGB{note}", rgb16, rgb16, greyscale=False, alpha=False, bitdepth=16, interlace=interlace)
        write_png(f"rgba8{tag}.png", f"8-bit RGBA{note}; alpha kept apart", rgba8, rgb8, greyscale=False, alpha=True, bitdepth=8,
                  interlace=interlace, opacity=ALPHA8)
        write_png(f"rgba16{tag}.png", f"16-bit RGBA{note}; alpha kept apart", rgba16, rgb16, greyscale=False, alpha=True, bitdepth=16,
                  interlace=interlace, opacity=ALPHA16)
        palette = [tuple(int(v) for v in c) for c in (COLORMAP.T >> 8)]
        write_png(f"palette8{tag}.png", f"8-bit palette (256 entries){note}; expected = PLTE colours", INDEX8,
                  np.array(palette, dtype=np.uint8)[INDEX8], greyscale=False, alpha=False, bitdepth=8, palette=palette,
                  interlace=interlace)
    for depth in (1, 2, 4):
        small = (INDEX8 >> (8 - depth)).astype(np.uint8)
        write_png(f"grey{depth}.png", f"{depth}-bit grey; expected = value × {255 // ((1 << depth) - 1)} (libpng expands to 8 bits)",
                  small, (small * (255 // ((1 << depth) - 1))).astype(np.uint8), greyscale=True, alpha=False, bitdepth=depth)
    small = (INDEX8 >> 4).astype(np.uint8)
    palette16 = [tuple(int(v) for v in c) for c in (COLORMAP.T[:16] >> 8)]
    palette_t = [p + (a,) for p, a in zip(palette16, range(0, 256, 16))]
    write_png("palette4_trns.png", "4-bit palette of 16 colours with tRNS transparency; expected = PLTE colours, alpha = tRNS entries",
              small, np.array(palette16, dtype=np.uint8)[small], greyscale=False, alpha=False, bitdepth=4, palette=palette_t,
              opacity=np.arange(0, 256, 16, dtype=np.uint8)[small])
    # Palettes with fewer colours than the bit depth allows: every pixel's index is checked.
    idx3 = (INDEX8 % 3).astype(np.uint8)
    palette3 = palette16[:3]
    write_png("palette2_partial.png", "2-bit palette of 3 colours (fewer than 4); expected = PLTE colours", idx3,
              np.array(palette3, dtype=np.uint8)[idx3], greyscale=False, alpha=False, bitdepth=2, palette=palette3)
    idx10 = (INDEX8 % 10).astype(np.uint8)
    palette10 = [p + (a,) for p, a in zip(palette16[:10], range(0, 250, 25))]
    write_png("palette4_partial_trns_interlaced.png", "4-bit palette of 10 colours with tRNS, Adam7-interlaced; expected = "
              "PLTE colours, alpha = tRNS entries", idx10, np.array(palette16[:10], dtype=np.uint8)[idx10], greyscale=False,
              alpha=False, bitdepth=4, palette=palette10, interlace=True, opacity=np.arange(0, 250, 25, dtype=np.uint8)[idx10])
    # Colour keys (tRNS of a grey or RGB image): pixels of the key's value are transparent, the others opaque.
    key8 = int(g8[0, 0])
    write_png("grey8_key.png", f"8-bit grey with a tRNS colour key ({key8}); expected = grey as stored, alpha = 0 at the key",
              g8, g8, greyscale=True, alpha=False, bitdepth=8, transparent=key8, check=False,
              opacity=np.where(g8 == key8, 0, 255).astype(np.uint8)[..., None])
    key16 = tuple(int(v) for v in rgb16[0, 0])
    opacity16 = np.where((rgb16 == np.array(key16)).all(-1), 0, 65535).astype(np.uint16)[..., None]
    write_png("rgb16_key.png", "16-bit RGB with a tRNS colour key (its first pixel's); expected = RGB as stored, alpha = 0 "
              "at the key", rgb16, rgb16, greyscale=False, alpha=False, bitdepth=16, transparent=key16, check=False, opacity=opacity16)
    # An independent reader's view of the keys: PIL reads them as alpha.
    seen = np.asarray(Image.open(os.path.join(OUT, "grey8_key.png")).convert("RGBA"))[..., 3]
    assert np.array_equal(seen, np.where(g8 == key8, 0, 255)), "grey8_key.png"
    assert opacity16.min() == 0 and opacity16.max() == 65535
    Image.fromarray(rgb8).save(os.path.join(OUT, "rgb8_pil.png"))
    record("rgb8_pil.png", "8-bit RGB written by PIL (a second PNG writer)", [level_entry(rgb8, 0)], fmt="PNG")


def write_bad_palettes():
    """Palette PNGs whose pixels index past their PLTE: written by pypng with 8 colours, then the PLTE
    chunk cut to 4 (its CRC made anew), so indexes 4-7 have no colour (libpng reads them as black)."""
    import struct
    import zlib
    rows = [[(x + y) % 8 for x in range(8)] for y in range(6)]
    colours = [(i * 30, 255 - i * 30, i * 10) for i in range(8)]
    for name, interlace in (("palette8_bad_index.png", False), ("palette8_bad_index_interlaced.png", True)):
        path = os.path.join(OUT, name)
        with open(path, "wb") as f:
            png.Writer(8, 6, palette=colours, bitdepth=8, interlace=interlace).write(f, rows)
        data = open(path, "rb").read()
        start = data.index(b"PLTE") - 4
        length = struct.unpack(">I", data[start:start + 4])[0]
        body = data[start + 8:start + 8 + 12]
        chunk = struct.pack(">I", 12) + b"PLTE" + body + struct.pack(">I", zlib.crc32(b"PLTE" + body) & 0xFFFFFFFF)
        with open(path, "wb") as f:
            f.write(data[:start] + chunk + data[start + 12 + length:])
        reason = "a pixel has palette index 4, but the palette (PLTE) has 4 colours (0–3): the file is corrupt"
        manifest["unsupported"][name] = reason
        readme_rows.append((name, f"8-bit palette{', Adam7-interlaced' if interlace else ''}, indexes 0-7 but a PLTE of 4 "
                                  f"colours (pypng, PLTE cut) — refused: `{reason}`"))


def write_readme():
    lines = ["# Raster fixtures (`RasterFile`)", "",
             "Written by `tools/make_raster_fixtures.py` with tifffile + imagecodecs (TIFF) and pypng + PIL (PNG): writers",
             f"independent of CompSeg. 8-bit images are {W}×{H}, 16-bit ones {W16}×{H16} (not multiples of the 16×16 tiles)",
             "unless said; the pixels are an H&E-like pattern with noise, with the extreme values 0 and the maximum at",
             "(x 0, y 0) and (x 1, y 0).", "",
             "`manifest.json` lists, per file, its format, how many images `describe` finds, and per level the page / SubIFD",
             "it is and the expected pixels: `expected/*.bin` (raw little-endian uint8/uint16, rows × columns × channels,",
             "as RasterFile returns them: grey 1 channel, palette expanded, min-is-white inverted) with the",
             "divisor giving RasterFile's floats. `tolerance` 0 = exact; -1 = JPEG, expected = tifffile's (libjpeg-turbo)",
             "decode, compare within the tolerance the tests state. `unsupported` lists files RasterFile must refuse and",
             "the text its IOError must contain. `alpha`, where a file has opacity, names `expected/a*.bin`: the",
             "opacity plane (H×W, same depth) that RasterFile keeps apart; without it the image has none.", "",
             "| file | how it was written |", "|---|---|"]
    lines += [f"| `{n}` | {h} |" for n, h in readme_rows]
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(os.path.join(OUT, "expected"), exist_ok=True)
    for folder in (OUT, os.path.join(OUT, "expected")):
        for old in os.listdir(folder):
            if old.endswith((".tif", ".png", ".bin", ".json")):
                os.remove(os.path.join(folder, old))
    write_tiffs()
    write_pyramids()
    write_unsupported()
    write_pngs()
    write_bad_palettes()
    write_premultiplied()
    write_sparse()
    write_deflate_bomb()
    write_unstored()
    write_jpeg_padding()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        # One line per file: small, and diffs stay readable.
        f.write('{"files": {\n')
        f.write(",\n".join(f" {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(manifest["files"].items())))
        f.write('\n},\n"unsupported": ' + json.dumps(manifest["unsupported"], indent=1, sort_keys=True) + "}\n")
    write_readme()


if __name__ == "__main__":
    main()
