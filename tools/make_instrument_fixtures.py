"""Writes the instrument files that the CompSegIO instrument-reader tests read: Tests/Fixtures/instruments/*.

Usage (from the repository root):
    PY=$(../shared/bench/setup-torch.sh)
    $PY -m pip install agilent-format==0.4.7 spectral==0.25 renishawWiRE==0.1.16 spc-io==0.2.1 specio==0.1.0
    $PY tools/make_instrument_fixtures.py
(The script also runs `pip download --no-binary :all: renishaw-wdf==1.4.0` into a temporary folder for
Renishaw's own test map, Si-map.wdf, which only the source distribution ships.)

Every expected value comes from a reader independent of CompSeg:
- ENVI: the cubes are written with numpy (raw bytes and a handwritten header, which is all ENVI is) and
  read back with `spectral` (spectral.envi.open); `data ignore value` is applied here (spectral leaves
  it), so the expected values hold NaN where the file holds that value.
- Agilent: the real files shipped in agilent-format's datasets folder (MIT), read with agilent-format
  (agilentImage, agilentMosaic, MAT=False: the package's default orientation).
- Renishaw: Si-map.wdf from Renishaw's renishaw-wdf package (Apache-2.0), trimmed to 23 of its 575
  points per spectrum and stripped of its metadata blocks; small synthetic maps written here from the
  block layout. All are read with renishawWiRE; map images are built by placing each spectrum at its
  stage position from the ORGN block (so the expected images do not depend on how a reader interprets
  the WMAP scan-order flags). The trimmed map is also checked against Renishaw's own `wdf` reader.
- Galactic SPC: maps written here from the header and subfile layout of Thermo's SPC file format
  (no Python package writes a valid multifile map) and read back with spc-io (`spc_io.SpcRaw`), whose
  decoded subfile positions (Z = subtime, W = subwlevel) place each spectrum: columns by Z, rows by W.
- Text maps: written here with numpy from a formula.
- PerkinElmer FSM: specio's Spotlight image (spectra.fsm, BSD-3-Clause), trimmed to 4×5 pixels and 21 of its 1641
  bands (every 80th, so the axis stays evenly spaced) around its one %T value below 0, its labels ("cm-1", "%T") and
  text block kept; and small maps written here from the block layout. All are read with specio (specread), which lists the spectra in file
  order: the image is ny × nx, x fastest (the order in which specio's own map shows tissue, not stripes). The
  expected absorbance is 2 − log10(%T), computed here in float64 and rounded to float32, the value at or below 0
  taken as its spectrum's smallest positive %T, as the reader documents.
- NumPy arrays: written here with numpy.lib.format (header versions 1 and 2, C and Fortran order)
  and read back with numpy.load.

expected.json maps each file (path relative to Tests/Fixtures/instruments) to either
  {"format", "height", "width", "bands", "axis", "axis_unit", "values" (band-major: k, then y, then x;
   null for NaN) or "samples" ([k, y, x, value]) with "sum" (of the finite values), "notes_contain"}
or {"error_contains": [...], "error_line": N (text maps)}.
Values and axes are exact: every value is a float32 (or an integer a float32 holds exactly) and every axis
value a float64, printed with enough digits to round-trip. Parse them exactly (JSONDecoder or
Double(String)); Foundation's JSONSerialization on Linux rounds some of them a few ulp off.
Output is deterministic; rerunning rewrites the same files.
"""
import glob
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import warnings

import numpy as np
import agilent_format
import spectral.io.envi as envi
from spc_io.low_level.spc_raw import SpcRaw
from renishawWiRE import WDFReader
import collections.abc  # specio 0.1.0 imports Iterable from collections, which Python 3.10 moved
collections.Iterable = collections.abc.Iterable
import specio
import specio.datasets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "instruments")
EXPECTED = {}
warnings.filterwarnings("ignore", message="Parameters with non-lowercase names")  # special.hdr's keys, on purpose


def values_list(cube):
    """A height×width×bands array as the band-major list SpectralCube.values holds (NaN as None)."""
    flat = np.transpose(np.asarray(cube, dtype=np.float32), (2, 0, 1)).ravel()
    return [None if np.isnan(v) else float(v) for v in flat]


def expect(name, cube, axis, unit, fmt, notes=(), full=True):
    cube = np.asarray(cube, dtype=np.float32)
    h, w, b = cube.shape
    entry = {"format": fmt, "height": h, "width": w, "bands": b,
             "axis": [float(a) for a in axis], "axis_unit": unit, "notes_contain": list(notes)}
    if full:
        entry["values"] = values_list(cube)
    else:
        picks = [(0, 0, 0), (b - 1, h - 1, w - 1), (b // 2, h // 2, w // 3), (1, 0, w - 1), (b - 2, h - 1, 0)]
        entry["samples"] = [[k, y, x, float(cube[y, x, k])] for k, y, x in picks]
        entry["sum"] = float(np.nansum(cube.astype(np.float64)))
    EXPECTED[name] = entry


def expect_error(name, *fragments, line=None):
    EXPECTED[name] = {"error_contains": list(fragments)}
    if line is not None:
        EXPECTED[name]["error_line"] = line


# ---------------------------------------------------------------- ENVI

ENVI_TYPES = {1: "u1", 2: "i2", 3: "i4", 4: "f4", 5: "f8", 12: "u2", 13: "u4", 14: "i8", 15: "u8"}
EH, EW, EB = 3, 4, 5  # every ENVI cube is 3 lines (height) × 4 samples (width) × 5 bands


def envi_cube(code):
    """A 3×4×5 cube [y, x, k] whose values exercise each type's range (negatives, large unsigned)."""
    y, x, k = np.meshgrid(np.arange(EH), np.arange(EW), np.arange(EB), indexing="ij")
    base = (x + 10 * y + 100 * k).astype(np.float64)
    if code == 1:
        return (base % 251).astype(np.uint8)
    if code in (2, 3, 14):
        v = (base - 250) * {2: 3, 3: 40000, 14: 2 ** 40}[code]  # negatives, big magnitudes
        return v.astype(np.dtype(ENVI_TYPES[code]))
    if code in (12, 13, 15):
        v = base * {12: 130, 13: 9_000_000, 15: 2 ** 50}[code]
        return v.astype(np.dtype(ENVI_TYPES[code]))
    return (base * 0.37 - 60.125).astype(np.dtype(ENVI_TYPES[code]))


def interleaved(cube, interleave):
    """cube[y, x, k] laid out as the file holds it."""
    return {"bsq": np.transpose(cube, (2, 0, 1)), "bil": np.transpose(cube, (0, 2, 1)), "bip": cube}[interleave]


def write_envi(folder, stem, ext, cube, code, interleave, big, header_lines=(), offset=0, hdr_name=None):
    dtype = np.dtype(ENVI_TYPES[code]).newbyteorder(">" if big else "<")
    data = np.ascontiguousarray(interleaved(cube, interleave)).astype(dtype).tobytes()
    with open(os.path.join(folder, stem + ext), "wb") as f:
        f.write(bytes((7 * i) % 256 for i in range(offset)))  # whatever precedes the data
        f.write(data)
    hdr = ["ENVI", f"samples = {cube.shape[1]}", f"lines = {cube.shape[0]}", f"bands = {cube.shape[2]}",
           f"header offset = {offset}", "file type = ENVI Standard", f"data type = {code}",
           f"interleave = {interleave}", f"byte order = {1 if big else 0}", *header_lines]
    hdr_path = os.path.join(folder, hdr_name or stem + ".hdr")
    with open(hdr_path, "w") as f:
        f.write("\n".join(hdr) + "\n")
    return hdr_path, os.path.join(folder, stem + ext)


def envi_read(hdr, data):
    """The cube as spectral reads it, [line, sample, band], in the file's own data type."""
    return np.array(envi.open(hdr, data).open_memmap(interleave="bip"))


def make_envi():
    folder = os.path.join(OUT, "envi")
    os.makedirs(folder)
    interleaves = ["bsq", "bil", "bip"]
    extensions = [".img", ".dat", ".raw", None, "", ".seq"]  # None: the interleave's own extension
    for i, code in enumerate(ENVI_TYPES):
        for big in (False, True):
            il = interleaves[(i + big) % 3]
            ext = extensions[(2 * i + big) % len(extensions)]
            ext = "." + il if ext is None else ext
            stem = f"t{code}_{il}_{'be' if big else 'le'}"
            cube = envi_cube(code)
            lines, axis, unit = [], list(range(EB)), ""
            if code != 1:  # uint8 files carry no wavelength: the axis is the band index
                axis = [round(900 + 12.5 * k, 3) for k in range(EB)]
                unit = "nm" if code % 2 else "cm⁻¹"
                lines = ["wavelength = {" + ", ".join(str(a) for a in axis) + "}",
                         "wavelength units = " + ("Nanometers" if code % 2 else "Wavenumber")]
            hdr, data = write_envi(folder, stem, ext, cube, code, il, big, lines)
            read = envi_read(hdr, data)
            assert read.dtype.newbyteorder("=") == cube.dtype and np.array_equal(read, cube), stem
            notes = [] if code != 1 else ["band index"]
            expect(f"envi/{stem}.hdr", np.asarray(read, dtype=np.float32), axis, unit, "ENVI", notes)

    # Mixed-case keys, a multi-line {…} wavelength list, a comment, free text, header offset and data ignore value.
    cube = (np.arange(EH * EW * EB, dtype=np.float32).reshape(EH, EW, EB) * 1.5 - 20)
    cube[1, 2, :] = -9999  # a missing pixel
    cube[0, 0, 3] = -9999
    axis = [3999.5, 3001.25, 2000.0, 1500.75, 999.0]
    lines = ["Description = {a header written by hand,", "  with = signs and, commas }",
             "Wavelength = {", "  3999.5,", "  3001.25, 2000.0,", "  1500.75,", "  999.0 }",
             "WAVELENGTH UNITS = cm-1", "; a comment line", "Data Ignore Value = -9999",
             "sensor type = Unknown"]
    text_hdr, data = write_envi(folder, "special", ".img", cube, 4, "bil", True, lines, offset=64)
    with open(text_hdr) as f:
        text = f.read().replace("samples", "Samples").replace("lines =", "LINES =").replace("header offset", "Header Offset")
    with open(text_hdr, "w") as f:
        f.write(text)
    read = envi_read(text_hdr, data).astype(np.float32)
    assert np.array_equal(read, cube)
    read[read == -9999] = np.nan
    expect("envi/special.hdr", read, axis, "cm⁻¹", "ENVI")
    EXPECTED["envi/special.img"] = dict(EXPECTED["envi/special.hdr"])  # the data file finds its header

    # ENVI's other naming: name.img.hdr beside name.img.
    cube = envi_cube(2)
    hdr, data = write_envi(folder, "named", ".img", cube, 2, "bsq", False,
                           ["wavelength = {1, 2, 3, 4, 5}", "wavelength units = Raman Shift"],
                           hdr_name="named.img.hdr")
    read = envi_read(hdr, data)
    expect("envi/named.img.hdr", read, [1, 2, 3, 4, 5], "Raman shift", "ENVI")
    EXPECTED["envi/named.img"] = dict(EXPECTED["envi/named.img.hdr"])


# ---------------------------------------------------------------- Agilent

def make_agilent():
    src = os.path.join(os.path.dirname(agilent_format.__file__), "datasets")
    folder = os.path.join(OUT, "agilent")
    os.makedirs(folder)
    names = ["4_noimage_agg256.bsp", "4_noimage_agg256.dat", "4_noimage_agg256.hdr",
             "5_mosaic_agg1024.dmt", "5_Mosaic_agg1024_0000_0000.dmd", "5_Mosaic_agg1024_0000_0001.dmd",
             "5_mosaic_agg1024.hdr", "5_Mosaic_agg1024.dat"]
    for name in names:
        shutil.copyfile(os.path.join(src, name), os.path.join(folder, name))
    licence = glob.glob(os.path.join(os.path.dirname(os.path.dirname(agilent_format.__file__)),
                                     "agilent_format-*.dist-info", "licenses", "LICENSE"))[0]
    shutil.copyfile(licence, os.path.join(folder, "LICENSE-agilent-format.txt"))  # MIT: the notice travels with copies

    tile = agilent_format.agilentImage(os.path.join(folder, "4_noimage_agg256.dat"), MAT=False)
    assert abs(tile.data[0, 1, 1] - 1.27181053) < 1e-6  # agilent-format's own orientation check
    expect("agilent/4_noimage_agg256.dat", tile.data, tile.wavenumbers, "cm⁻¹", "Agilent FPA tile")
    EXPECTED["agilent/4_noimage_agg256.bsp"] = dict(EXPECTED["agilent/4_noimage_agg256.dat"])

    mosaic = agilent_format.agilentMosaic(os.path.join(folder, "5_mosaic_agg1024.dmt"), MAT=False)
    assert mosaic.data.shape == (8, 4, 9) and abs(mosaic.data[1, 2, 3] - 0.28298783) < 1e-6
    expect("agilent/5_mosaic_agg1024.dmt", mosaic.data, mosaic.wavenumbers, "cm⁻¹", "Agilent FPA mosaic")

    # The ENVI headers Resolutions Pro writes beside the data (header offset 1020 skips the preamble).
    for hdr, data in [("4_noimage_agg256.hdr", "4_noimage_agg256.dat"), ("5_mosaic_agg1024.hdr", "5_Mosaic_agg1024.dat")]:
        image = envi.open(os.path.join(folder, hdr), os.path.join(folder, data))
        read = envi_read(os.path.join(folder, hdr), os.path.join(folder, data))
        axis = [float(v) for v in image.metadata["wavelength"]]
        expect("agilent/" + hdr, read, axis, "", "ENVI")
    assert np.array_equal(values_list(mosaic.data), EXPECTED["agilent/5_mosaic_agg1024.hdr"]["values"])

    # A partial mosaic (agilent-format's own test): a third tile at x = 1, the tile (1, 1) missing -> NaN.
    partial = os.path.join(folder, "partial")
    os.makedirs(partial)
    for name in ["5_mosaic_agg1024.dmt", "5_Mosaic_agg1024_0000_0000.dmd", "5_Mosaic_agg1024_0000_0001.dmd"]:
        shutil.copyfile(os.path.join(src, name), os.path.join(partial, name))
    shutil.copyfile(os.path.join(src, "5_Mosaic_agg1024_0000_0000.dmd"),
                    os.path.join(partial, "5_Mosaic_agg1024_0001_0000.dmd"))
    mosaic = agilent_format.agilentMosaic(os.path.join(partial, "5_mosaic_agg1024.dmt"), MAT=False)
    assert mosaic.data.shape == (8, 8, 9) and np.isnan(mosaic.data[0, 4, 5])
    expect("agilent/partial/5_mosaic_agg1024.dmt", mosaic.data, mosaic.wavenumbers, "cm⁻¹",
           "Agilent FPA mosaic", notes=["missing"])


# ---------------------------------------------------------------- Renishaw WiRE

def block(name, payload, uid=0):
    return struct.pack("<4sIQ", name, uid, 16 + len(payload)) + payload


def wdf_header(npoints, capacity, count, measurement, scan, origins, title):
    h = bytearray(512)
    struct.pack_into("<4sIQ", h, 0, b"WDF1", 1, 512)
    struct.pack_into("<IQQIIII", h, 0x3C, npoints, capacity, count, 1, 1, npoints, origins)
    h[0x60:0x64] = b"WiRE"
    struct.pack_into("<4H", h, 0x78, 5, 3, 0, 1)
    struct.pack_into("<II", h, 0x80, scan, measurement)
    struct.pack_into("<If", h, 0x98, 6, 18797.0)  # counts; 532 nm laser
    title = title.encode()
    h[0xF0:0xF0 + len(title)] = title
    return bytes(h)


def write_wdf(path, width, height, npoints, flags=0, count=None, measurement=3, single=False):
    """A synthetic map: spectrum at column x, row y holds 1000 k + 10 y + x + 0.5 (k: point), laid out in
    the acquisition order the WMAP flags describe; ORGN holds each spectrum's stage position."""
    capacity = 1 if single else width * height
    count = capacity if count is None else count
    x0, y0, dx, dy = -4.0, 12.5, 1.5, 2.0
    if flags & 2:  # column major: Y first, then X
        order = [(x, y) for x in range(width) for y in range(height)]
    elif flags & 4:  # snake: odd lines run backwards
        order = [(x if y % 2 == 0 else width - 1 - x, y) for y in range(height) for x in range(width)]
    elif flags & 1:  # random points (the first stays at the start, where renishawWiRE checks WMAP against ORGN)
        order = [(x, y) for y in range(height) for x in range(width)]
        order = order[:1] + [order[1 + i] for i in np.random.default_rng(5).permutation(len(order) - 1)]
    else:
        order = [(x, y) for y in range(height) for x in range(width)]
    spectra = np.zeros((capacity, npoints), np.float32)
    xs, ys = np.zeros(capacity), np.zeros(capacity)
    for i, (x, y) in enumerate(order[:count]):
        spectra[i] = 1000 * np.arange(npoints) + 10 * y + x + 0.5
        xs[i], ys[i] = x0 + dx * x, y0 + dy * y
    xlist = np.linspace(1800, 600, npoints, dtype=np.float32)  # Raman shift, descending as WiRE stores it
    blocks = [block(b"DATA", spectra.tobytes()),
              block(b"XLST", struct.pack("<II", 1, 1) + xlist.tobytes()),
              block(b"YLST", struct.pack("<II", 0, 16) + struct.pack("<f", 0))]
    origins = 0
    if not single:
        orgn = struct.pack("<I", 2)
        for dtype, label, values in [(3, b"X", xs), (4, b"Y", ys)]:
            orgn += struct.pack("<II16s", dtype | (1 << 31), 5, label) + values.astype("<f8").tobytes()
        blocks.append(block(b"ORGN", orgn))
        blocks.append(block(b"WMAP", struct.pack("<II3f3f3II", flags, 0, x0, y0, 0, dx, dy, 0, width, height, 1, 0)))
        origins = 2
    header = wdf_header(npoints, capacity, count, 1 if single else measurement, 1 if single else 3, origins,
                        os.path.basename(path))
    with open(path, "wb") as f:
        f.write(header + b"".join(blocks))


def place_by_origin(reader, count):
    """The map image built from renishawWiRE's spectra (acquisition order) and ORGN stage positions."""
    flat = np.asarray(reader.spectra, dtype=np.float32).reshape(-1, reader.point_per_spectrum)[:count]
    xs, ys = np.asarray(reader.xpos)[:count], np.asarray(reader.ypos)[:count]
    ux, uy = np.unique(np.round(xs, 4)), np.unique(np.round(ys, 4))
    cube = np.full((len(uy), len(ux), flat.shape[1]), np.nan, np.float32)
    for s, x, y in zip(flat, np.round(xs, 4), np.round(ys, 4)):
        cube[np.searchsorted(uy, y), np.searchsorted(ux, x)] = s
    return cube


def trimmed_si_map(original, path, step=25):
    """Si-map.wdf with every `step`-th point of each spectrum and only the blocks a map needs."""
    data = open(original, "rb").read()
    found, pos = {}, 0
    while pos + 16 <= len(data):
        name, uid, size = struct.unpack_from("<4sIQ", data, pos)
        found.setdefault(name, data[pos:pos + size])
        pos += size
    header = bytearray(found[b"WDF1"])
    npoints, capacity = struct.unpack_from("<IQ", header, 0x3C)
    keep = list(range(0, npoints, step))
    struct.pack_into("<I", header, 0x3C, len(keep))
    struct.pack_into("<I", header, 0x58, len(keep))
    spectra = np.frombuffer(found[b"DATA"][16:], "<f4").reshape(capacity, npoints)[:, keep]
    xtype, xunit = struct.unpack_from("<II", found[b"XLST"], 16)
    xlist = np.frombuffer(found[b"XLST"][24:], "<f4")[keep]
    out = [bytes(header), block(b"DATA", np.ascontiguousarray(spectra).tobytes()),
           block(b"XLST", struct.pack("<II", xtype, xunit) + xlist.tobytes())]
    out += [found[name] for name in (b"YLST", b"ORGN", b"TEXT", b"WMAP")]
    with open(path, "wb") as f:
        f.write(b"".join(out))
    return keep


def wire_unit(reader):
    """The axis unit as renishawWiRE reads the XLST block's code (its "Wavenumber" is nm)."""
    return {"RamanShift": "Raman shift", "Wavenumber": "nm", "Nanometre": "nm", "ElectronVolt": "eV",
            "Micron": "µm"}.get(reader.xlist_unit.name, "")


def make_wire():
    folder = os.path.join(OUT, "wire")
    os.makedirs(folder)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "renishaw-wdf==1.4.0", "-d", tmp], check=True)
        with tarfile.open(glob.glob(os.path.join(tmp, "renishaw_wdf-*.tar.gz"))[0]) as tar:
            tar.extractall(tmp, filter="data")
        sdist = glob.glob(os.path.join(tmp, "renishaw_wdf-*/"))[0]
        original = os.path.join(sdist, "wdf", "test", "Si-map.wdf")
        shutil.copyfile(os.path.join(sdist, "LICENSE"), os.path.join(folder, "LICENSE-renishaw-wdf.txt"))  # Apache-2.0 §4(a)
        path = os.path.join(folder, "Si-map-trimmed.wdf")
        keep = trimmed_si_map(original, path)
        full = WDFReader(original)
        trimmed = WDFReader(path)
        assert np.array_equal(trimmed.spectra, full.spectra[..., keep]) and trimmed.spectra.shape == (11, 8, 23)
        sys.path.insert(0, sdist)
        from wdf import Wdf  # Renishaw's own reader agrees on every spectrum
        with Wdf(path) as w:
            assert w.map_area.count.x == 8 and w.map_area.count.y == 11
            for i in range(88):
                assert np.array_equal(np.float32(w.spectrum(i)), trimmed.spectra.reshape(88, 23)[i])
        cube = place_by_origin(trimmed, 88)
        assert np.array_equal(cube, trimmed.spectra)  # a plain raster: X fastest
        expect("wire/Si-map-trimmed.wdf", cube, trimmed.xdata, wire_unit(trimmed), "Renishaw WiRE", full=False)

    write_wdf(os.path.join(folder, "colmajor.wdf"), 3, 4, 5, flags=2)
    reader = WDFReader(os.path.join(folder, "colmajor.wdf"))
    expect("wire/colmajor.wdf", place_by_origin(reader, 12), reader.xdata, wire_unit(reader), "Renishaw WiRE")

    write_wdf(os.path.join(folder, "unfinished.wdf"), 4, 3, 5, count=9)  # 2 complete lines and one spectrum
    reader = WDFReader(os.path.join(folder, "unfinished.wdf"))
    assert not reader.is_completed and reader.spectra.shape == (9, 5)
    expect("wire/unfinished.wdf", place_by_origin(reader, 8), reader.xdata, wire_unit(reader), "Renishaw WiRE",
           notes=["unfinished", "9 of 12"])

    write_wdf(os.path.join(folder, "snake.wdf"), 4, 3, 5, flags=4)
    WDFReader(os.path.join(folder, "snake.wdf"))
    expect_error("wire/snake.wdf", "WMAP", "snake")

    write_wdf(os.path.join(folder, "random.wdf"), 4, 3, 5, flags=1)
    WDFReader(os.path.join(folder, "random.wdf"))
    expect_error("wire/random.wdf", "WMAP", "random")

    write_wdf(os.path.join(folder, "single.wdf"), 1, 1, 5, single=True)
    reader = WDFReader(os.path.join(folder, "single.wdf"))
    assert reader.spectra.shape == (5,)
    expect_error("wire/single.wdf", "not an image")


# ---------------------------------------------------------------- Galactic SPC

def spc_bytes(spectra, x=None, first=400.0, last=1800.0, xtype=13, exp=-128, half=False, own_x=None,
              wplanes=0, version=0x4B, log=b"", extra_flags=0, sub_exp=None):
    """A new-format SPC file (least significant byte first) of `spectra`, a list of (z, w, values): the
    512-byte header (flags, version, exponent, points, first and last x, subfiles, x/y/z types at 0..31;
    fzinc, fwplanes, fwinc at 312), the x array (TXVALS), then per subfile a 32-byte header (flags,
    exponent, index, subtime = z, subnext, noise, points, scans, subwlevel = w), its own x values
    (TXYXYS) and its values; with TXYXYS a directory of the subfiles, where fnpts says."""
    points = len(spectra[0][2])
    flags = (0x04 if len(spectra) > 1 else 0) | (0x01 if half else 0)
    flags |= 0x80 if x is not None else 0
    flags |= 0xC0 if own_x is not None else 0
    flags |= extra_flags
    head = bytearray(512)
    struct.pack_into("<BBBbIddIBBBB", head, 0, flags, version, 0, exp, points, first, last, len(spectra), xtype, 4, 0, 0)
    struct.pack_into("<fIfB", head, 312, 0.0, wplanes, 0.0, 0)
    body = bytearray()
    if x is not None:
        body += np.asarray(x, "<f4").tobytes()
    directory = bytearray()  # TXYXYS: fnpts is the offset of 12-byte entries (offset, size, z), one a subfile
    for i, (z, w, y) in enumerate(spectra):
        y = np.asarray(y, np.float64)
        directory += struct.pack("<iif", 512 + len(body), 32 + points * 8, z)
        body += struct.pack("<BbHfffIIf4x", 0, exp if sub_exp is None else sub_exp, i, z, z, 0.0, points if own_x is not None else 0, 0, w)
        if own_x is not None:
            body += np.asarray(own_x[i], "<f4").tobytes()
        if exp == -128:
            body += y.astype("<f4").tobytes()
        else:
            body += np.round(y / 2.0 ** (exp - (16 if half else 32))).astype("<i2" if half else "<i4").tobytes()
    if own_x is not None:
        struct.pack_into("<I", head, 4, 512 + len(body))
        body += directory
    if log:  # the log block: its 64-byte header, then NUL-terminated text
        struct.pack_into("<I", head, 248, 512 + len(body))
        text = log + b"\x00"
        body += struct.pack("<IIIII44x", 64 + len(text), 4096, 64, 0, 0) + text
    return bytes(head + body)


def spc_image(data, xtype_units):
    """The image spc-io finds in `data`: each subfile's values at column (rank of its Z among the
    distinct Z values), row (rank of its W), as float32; and the axis and its unit."""
    raw = SpcRaw.from_bytes_io(io.BytesIO(data))
    zs = sorted({s.header.subfirst for s in raw.subs})
    ws = sorted({s.header.subwlevel for s in raw.subs})
    h = raw.main_header
    if h.ftflgs.TXVALS:
        axis = [float(v) for v in (raw.subs[0].xarray if h.ftflgs.TXYXYS else np.ctypeslib.as_array(raw._xarray))]
    else:
        axis = [float(v) for v in np.linspace(h.ffirst, h.flast, h.fnpts)]
    cube = np.full((len(ws), len(zs), len(axis)), np.nan, np.float32)
    for s in raw.subs:
        cube[ws.index(s.header.subwlevel), zs.index(s.header.subfirst)] = np.asarray(s.yarray, np.float32)
    return cube, axis, xtype_units


def make_spc():
    folder = os.path.join(OUT, "spc")
    os.makedirs(folder, exist_ok=True)

    def write(name, data):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        return data

    def grid(rows, cols, bands, order=None):
        """(z, w, values) for a rows × cols map, value 1000 k + 10 row + column + 0.5, Z 100 + 2 column,
        W −10 + 5 row, in `order` (default: row by row)."""
        cells = order or [(r, c) for r in range(rows) for c in range(cols)]
        return [(100.0 + 2 * c, -10.0 + 5 * r, np.arange(bands) * 1000.0 + 10 * r + c + 0.5) for r, c in cells]

    # Float32 values, an even Raman-shift axis, W planes declared, a log block.
    data = write("map-float.spc", spc_bytes(grid(3, 4, 8), wplanes=3, log=b"Map=3x4\r\nStep=2"))
    expect("spc/map-float.spc", *spc_image(data, "Raman shift"), "Galactic SPC")
    # int32 scaled by 2^(14 − 32), an explicit descending wavenumber axis, no W planes declared (as spc-io
    # writes maps), the subfiles column by column.
    order = [(r, c) for c in range(3) for r in range(4)]
    data = write("map-int32-xvals.spc", spc_bytes(grid(4, 3, 5, order), x=np.linspace(1800, 1000, 5), xtype=1, exp=14))
    expect("spc/map-int32-xvals.spc", *spc_image(data, "cm⁻¹"), "Galactic SPC")
    # int16 scaled by 2^(14 − 16); positions jittered by a few hundredths of their 2 and 5 µm steps.
    jittered = [(z + 0.03 * ((i * 7) % 3 - 1), w - 0.02 * (i % 2), y) for i, (z, w, y) in enumerate(grid(2, 3, 4))]
    data = write("map-int16-jitter.spc", spc_bytes(jittered, exp=14, half=True, xtype=3))
    _, axis, unit = spc_image(data, "nm")
    expect("spc/map-int16-jitter.spc", jitter_free(data), axis, unit, "Galactic SPC")
    # Each subfile its own (equal) axis; an unfinished acquisition: the last row's last spectrum missing.
    spectra = grid(3, 3, 4)[:-1]
    data = write("unfinished-own-axes.spc", spc_bytes(spectra, own_x=[np.linspace(500, 800, 4)] * len(spectra), xtype=13))
    cube, axis, unit = spc_image(data, "Raman shift")
    expect("spc/unfinished-own-axes.spc", cube[:2], axis, unit, "Galactic SPC",
           notes=["unfinished", "8 of 9", "kept the 2 complete rows, without the row at W = 0.0"])
    # Acquired column by column, the first (lowest W) row first, and stopped two spectra short: the last column goes.
    order = [(r, c) for c in range(4) for r in range(3)]
    data = write("unfinished-columns.spc", spc_bytes(grid(3, 4, 5, order)[:-2], xtype=13))
    cube, axis, unit = spc_image(data, "Raman shift")
    expect("spc/unfinished-columns.spc", cube[:, :3], axis, unit, "Galactic SPC",
           notes=["10 of 12", "kept the 3 complete columns, without the column at Z = 106.0"])
    # Refused.
    write("single.spc", spc_bytes(grid(1, 1, 4)))
    expect_error("spc/single.spc", "one spectrum", "not a map")
    write("line.spc", spc_bytes(grid(1, 5, 4)))
    expect_error("spc/line.spc", "5 spectra lie on a line", "one W value")
    twice = grid(2, 2, 4)
    twice[3] = (twice[2][0], twice[2][1], twice[3][2])
    write("same-position.spc", spc_bytes(twice))
    expect_error("spc/same-position.spc", "subfiles 2 and 3 lie at one position", "Z = 100.0, W = -5.0")
    holes = grid(3, 3, 4)
    del holes[4]
    write("hole.spc", spc_bytes(holes))
    expect_error("spc/hole.spc", "no spectrum lies at Z = 102.0, W = -5.0", "1 of 3 × 3")
    differ = grid(2, 2, 4)
    write("axes-differ.spc", spc_bytes(differ, own_x=[np.linspace(500, 800, 4)] * 3 + [np.linspace(500, 801, 4)]))
    expect_error("spc/axes-differ.spc", "subfile 3 has its own x values", "unlike subfile 0's")
    write("truncated.spc", spc_bytes(grid(2, 2, 8))[:-5])
    expect_error("spc/truncated.spc", "4 subfiles of 8 points", "truncated")
    gap = [(z + (4.0 if z > 102 else 0.0), w, y) for z, w, y in grid(3, 4, 4)]  # the column at Z = 106 never measured
    write("column-gap.spc", spc_bytes(gap))
    expect_error("spc/column-gap.spc", "Z positions are not evenly spaced", "Z = 102.0 is followed by Z = 108.0", "step is 2.0")
    write("no-positions.spc", spc_bytes([(0.0, 0.0, y) for _, _, y in grid(2, 3, 4)]))
    expect_error("spc/no-positions.spc", "6 spectra all lie at one position", "records no map positions")
    write("two-rows-unfinished.spc", spc_bytes(grid(2, 3, 4)[:-1]))  # dropping the short row would leave one line
    expect_error("spc/two-rows-unfinished.spc", "no spectrum lies at Z = 104.0, W = -5.0", "a map that keeps two or more")
    write("own-x-unstored.spc", spc_bytes(grid(2, 2, 4), extra_flags=0x40))
    expect_error("spc/own-x-unstored.spc", "TXYXYS", "without TXVALS")
    write("half-float.spc", spc_bytes(grid(2, 2, 4), exp=14, half=True, sub_exp=-128))
    expect_error("spc/half-float.spc", "subfile 0 holds float32 values", "flag TSPREC")
    write("old-format.spc", spc_bytes(grid(2, 2, 4), version=0x4D))
    expect_error("spc/old-format.spc", "old-format SPC", "0x4D")


def jitter_free(data):
    """The image of a jittered map: spc-io's subfiles placed by the rank of their rounded Z and W
    (jitter well under a quarter of the steps)."""
    raw = SpcRaw.from_bytes_io(io.BytesIO(data))
    zs = sorted({round(s.header.subfirst) for s in raw.subs})
    ws = sorted({round(s.header.subwlevel) for s in raw.subs})
    cube = np.full((len(ws), len(zs), raw.main_header.fnpts), np.nan, np.float32)
    for s in raw.subs:
        cube[ws.index(round(s.header.subwlevel)), zs.index(round(s.header.subfirst))] = np.asarray(s.yarray, np.float32)
    return cube


# ---------------------------------------------------------------- text maps

def text_cube(width, height, bands):
    y, x, k = np.meshgrid(np.arange(height), np.arange(width), np.arange(bands), indexing="ij")
    return (100 * k + 10 * y + x + 0.25).astype(np.float64)


def write_text(name, lines):
    with open(os.path.join(OUT, "text", name), "w") as f:
        f.write("\n".join(lines) + "\n")


def make_text():
    os.makedirs(os.path.join(OUT, "text"))
    W, H, B = 3, 2, 4
    xs, ys, waves = [-5.0, -3.5, -2.0], [10.0, 12.0], [1600.5, 1400.0, 1200.25, 1000.0]
    cube = text_cube(W, H, B)

    # WiRE's "Save as text" for a map: X, Y, Wave, Intensity, one spectrum after another.
    rows = ["#X\t#Y\t#Wave\t#Intensity"]
    rows += [f"{xs[x]}\t{ys[y]}\t{waves[k]}\t{cube[y, x, k]}" for y in range(H) for x in range(W) for k in range(B)]
    write_text("map-long-wire.txt", rows)
    back = np.loadtxt(os.path.join(OUT, "text", "map-long-wire.txt"))
    assert back.shape == (W * H * B, 4)
    expect("text/map-long-wire.txt", cube, waves, "", "text map (long)")

    # Comma separated, no header, grouped by wave (all pixels at one wave, then the next), Y descending.
    rows = [f"{xs[x]},{ys[y]},{waves[k]},{cube[y, x, k]}" for k in range(B) for y in reversed(range(H)) for x in range(W)]
    write_text("map-long.csv", rows)
    expect("text/map-long.csv", cube, waves, "", "text map (long)")

    # Orange's .xyz / LabSpec's map export: first row two empty cells then the wavenumbers.
    rows = ["\t\t" + "\t".join(str(w) for w in waves)]
    rows += [f"{xs[x]}\t{ys[y]}\t" + "\t".join(str(cube[y, x, k]) for k in range(B)) for y in range(H) for x in range(W)]
    write_text("map-wide.xyz", rows)
    expect("text/map-wide.xyz", cube, waves, "", "text map (wide)")

    # Whitespace separated, a text header, first row the wavenumbers alone, pixels in a shuffled order.
    rows = ["# exported map", "# x y then intensities", "   ".join(str(w) for w in waves)]
    order = [(x, y) for y in range(H) for x in range(W)]
    for i in np.random.default_rng(3).permutation(len(order)):
        x, y = order[i]
        rows.append(f"  {xs[x]}   {ys[y]}  " + " ".join(str(cube[y, x, k]) for k in range(B)))
    write_text("map-wide-space.txt", rows)
    expect("text/map-wide-space.txt", cube, waves, "", "text map (wide)")

    # Irregular grids: the error names the first offending line (1-based).
    long_rows = [f"{xs[x]}\t{ys[y]}\t{waves[k]}\t{cube[y, x, k]}" for y in range(H) for x in range(W) for k in range(B)]
    write_text("irregular-missing.txt", ["#X\t#Y\t#Wave\t#Intensity"] + long_rows[:B * 4] + long_rows[B * 5:])
    expect_error("text/irregular-missing.txt", "missing", "X=-3.5", "Y=12.0", line=2 + B * 3)
    dup = long_rows[:B * 3] + long_rows[:1] + long_rows[B * 3:]
    write_text("irregular-duplicate.txt", dup)
    expect_error("text/irregular-duplicate.txt", "duplicate", line=B * 3 + 1)
    wide = ["\t\t" + "\t".join(str(w) for w in waves)]
    uneven = [0.0, 1.0, 3.0]
    wide += [f"{uneven[x]}\t{ys[y]}\t" + "\t".join(str(cube[y, x, k]) for k in range(B)) for y in range(H) for x in range(W)]
    write_text("irregular-spacing.xyz", wide)
    expect_error("text/irregular-spacing.xyz", "evenly spaced", "X=3.0", line=4)
    ragged = wide[:4] + [wide[4].rsplit("\t", 1)[0]] + wide[5:]
    write_text("irregular-ragged.xyz", ragged)
    expect_error("text/irregular-ragged.xyz", "5 values", "6", line=5)


# ---------------------------------------------------------------- PerkinElmer FSM

def fsm_block(block_id, payload):
    return struct.pack("<Hi", block_id, len(payload)) + payload


SPOTLIGHT_LABELS = (b"Y - Microns", b"X - Microns", b"cm-1")


def fsm_image_block(nx, ny, bands, start, step, end=None, name=b"", values=b"A"):
    """Block 5100: name, float64 x/y steps, axis step, start, end, two 4-D limits, x/y/z origins, int32 sizes, then the
    labels of y, x, the axis and the values (each an int16 length and its text), as Spotlight writes them; values=None:
    12 zero bytes in their place (four empty labels)."""
    end = start + (bands - 1) * step if end is None else end
    fields = struct.pack("<10d3i", 6.25, 6.25, step, start, end, 0.0, 0.0, 100.0, 200.0, start, nx, ny, bands)
    labels = b"\0" * 12 if values is None else b"".join(struct.pack("<h", len(t)) + t for t in SPOTLIGHT_LABELS + (values,))
    return fsm_block(5100, struct.pack("<h", len(name)) + name + fields + labels)


def fsm_text_block(*texts):
    """Block 5104: members, each an id, a size and a '#u'-tagged string (padded with empty ones to the 70 that specio
    expects of a Spotlight file)."""
    texts = texts + (b"",) * (70 - len(texts))
    members = b"".join(struct.pack("<Hi", 0x8B71 + i, 4 + len(t)) + b"#u" + struct.pack("<h", len(t)) + t
                       for i, t in enumerate(texts))
    return fsm_block(5104, members)


def fsm_file(path, blocks, description=b"DataSet - 4DConst3DInterval"):
    with open(path, "wb") as f:
        f.write(b"PEPE" + description.ljust(40, b"\0") + b"".join(blocks))


def fsm_read(path):
    """specio's reading: the spectra in file order, the axis, and the %T flag from the text block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spectra = specio.specread(path)
    return np.atleast_2d(np.asarray(spectra.amplitudes, dtype=np.float32)), np.asarray(spectra.wavelength, dtype=np.float64)


def absorbance(percent):
    """2 − log10(%T) per spectrum (the last axis), a %T at or below 0 taken as its spectrum's smallest positive one."""
    floor = np.where(percent > 0, percent, np.inf).min(axis=-1, keepdims=True)
    return np.float32(2 - np.log10(np.where(percent > 0, percent, floor).astype(np.float64)))


def make_fsm():
    folder = os.path.join(OUT, "fsm")
    os.makedirs(folder, exist_ok=True)
    # The real Spotlight image: 93 × 86 pixels, 1641 bands from 4000 to 720 cm-1 in %T.
    source = open(os.path.join(os.path.dirname(specio.datasets.__file__), "data", "spectra.fsm"), "rb").read()
    licence = glob.glob(os.path.join(os.path.dirname(os.path.dirname(specio.__file__)), "specio-*.dist-info", "licenses", "LICENSE"))[0]
    shutil.copyfile(licence, os.path.join(folder, "LICENSE-specio.txt"))  # BSD-3-Clause: the notice travels with copies
    blocks, offset = [], 44
    while offset < len(source):
        block_id, size = struct.unpack("<Hi", source[offset:offset + 6])
        blocks.append((block_id, source[offset + 6:offset + 6 + size]))
        offset += 6 + size
    image = blocks[0][1]
    name_length = struct.unpack("<h", image[:2])[0]
    base = 2 + name_length
    nx, ny, nz = struct.unpack("<3i", image[base + 80:base + 92])
    start, step = struct.unpack("<d", image[base + 24:base + 32])[0], struct.unpack("<d", image[base + 16:base + 24])[0]
    cube = np.array([np.frombuffer(p, "<f4") for i, p in blocks if i == 5105]).reshape(ny, nx, nz)
    rows, cols, bands = slice(12, 16), slice(74, 79), np.arange(11, nz, 80)
    assert (cube[rows, cols][:, :, bands] <= 0).sum() == 1
    trimmed = cube[rows, cols][:, :, bands]
    fields = (struct.pack("<3d", *struct.unpack("<2d", image[base:base + 16]), step * 80)
              + struct.pack("<2d", start + step * 11, start + step * 11 + step * 80 * (len(bands) - 1))
              + image[base + 40:base + 72] + struct.pack("<d", start + step * 11)
              + struct.pack("<3i", 5, 4, len(bands)) + image[base + 92:])
    path = os.path.join(folder, "spotlight-trimmed.fsm")
    fsm_file(path, [fsm_block(5100, image[:base] + fields), fsm_block(5104, blocks[1][1])]
             + [fsm_block(5105, s.astype("<f4").tobytes()) for s in trimmed.reshape(20, -1)], source[4:44])
    spectra, axis = fsm_read(path)
    assert np.array_equal(spectra.reshape(4, 5, -1), trimmed)
    expect("fsm/spotlight-trimmed.fsm", absorbance(spectra.reshape(4, 5, -1)), axis, "cm⁻¹", "PerkinElmer FSM",
           notes=["transmittance (%T) read as absorbance", "a %T at or below 0 as its spectrum's smallest positive one"])

    # Written here: an absorbance map (no conversion, though its text block names the acquisition 'Ratio (%T)': the
    # values' unit is block 5100's label), and a map without labels or a text block.
    H, W, B = 3, 4, 6
    y, x, k = np.meshgrid(np.arange(H), np.arange(W), np.arange(B), indexing="ij")
    values = (0.1 * k + 0.01 * y + 0.001 * x + 0.5).astype(np.float32)
    spectra_blocks = [fsm_block(5105, s.astype("<f4").tobytes()) for s in values.reshape(H * W, B)]
    path = os.path.join(folder, "absorbance.fsm")
    fsm_file(path, [fsm_image_block(W, H, B, 1800.0, -50.0, name=b"map"), fsm_text_block(b"Spotlight", b"Ratio (%T)", b"cm-1", b"%T")]
             + spectra_blocks)
    spectra, axis = fsm_read(path)
    expect("fsm/absorbance.fsm", spectra.reshape(H, W, B), axis, "cm⁻¹", "PerkinElmer FSM", notes=["values in absorbance ('A')"])
    path = os.path.join(folder, "no-labels.fsm")
    fsm_file(path, [fsm_image_block(W, H, B, 1000.0, 2.0, values=None)] + spectra_blocks)
    spectra, axis = fsm_read(path)
    expect("fsm/no-labels.fsm", spectra.reshape(H, W, B), axis, "cm⁻¹", "PerkinElmer FSM")
    # Unfinished: 10 of 3 × 4 spectra: the 2 complete rows are read.
    path = os.path.join(folder, "unfinished.fsm")
    fsm_file(path, [fsm_image_block(W, H, B, 1800.0, -50.0), fsm_text_block(b"Spotlight")] + spectra_blocks[:10])
    spectra, axis = fsm_read(path)
    expect("fsm/unfinished.fsm", spectra[:8].reshape(2, W, B), axis, "cm⁻¹", "PerkinElmer FSM",
           notes=["unfinished acquisition: 10 of its 12 spectra (3 rows × 4 columns)"])
    # Refused.
    fsm_file(os.path.join(folder, "short-spectrum.fsm"), [fsm_image_block(W, H, B, 1800.0, -50.0)] + spectra_blocks[:5]
             + [fsm_block(5105, values[1, 1, :5].tobytes())] + spectra_blocks[6:])
    expect_error("fsm/short-spectrum.fsm", "spectrum 5", "holds 20 bytes", "expected 6 float32 values")
    fsm_file(os.path.join(folder, "axis-end.fsm"), [fsm_image_block(W, H, B, 1800.0, -50.0, end=1500.0)] + spectra_blocks)
    expect_error("fsm/axis-end.fsm", "block 5100", "from 1800.0 by -50.0 over 6 bands does not end at 1500.0")
    fsm_file(os.path.join(folder, "too-many.fsm"), [fsm_image_block(W, H, B, 1800.0, -50.0)] + spectra_blocks * 2)
    expect_error("fsm/too-many.fsm", "holds more spectra than the 4×3 of its image block (5100)")
    fsm_file(os.path.join(folder, "no-image.fsm"), [fsm_text_block(b"Spotlight")] + spectra_blocks[:1])
    expect_error("fsm/no-image.fsm", "before the image block (5100)")
    path = os.path.join(folder, "truncated.fsm")
    fsm_file(path, [fsm_image_block(W, H, B, 1800.0, -50.0)] + spectra_blocks)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 3)
    expect_error("fsm/truncated.fsm", "block 5105 at offset", "declares 24 bytes, but the file holds 21")
    # A block 5100 declaring 2^31 − 1 bands (with an axis to match) in a file of a few hundred bytes: refused before
    # the axis is made.
    fsm_file(os.path.join(folder, "vast-bands.fsm"), [fsm_image_block(W, H, 2 ** 31 - 1, 0.0, 1.0)])
    expect_error("fsm/vast-bands.fsm", "block 5100: 2147483647 bands, more than one spectrum the file's")


# ---------------------------------------------------------------- NumPy arrays

def make_numpy():
    """Arrays written with numpy.save / numpy.lib.format (version 1 and 2 headers) and read back with
    numpy.load for the expectation; axes as 1-D arrays beside them."""
    base = os.path.join(OUT, "numpy")
    for sub in ("", "shared", "plain", "mismatch", "refused"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    H, W, B = 3, 4, 5
    y, x, k = np.meshgrid(np.arange(H), np.arange(W), np.arange(B), indexing="ij")
    cube = (1000 * k + 10 * y + x + 0.5).astype(np.float32)
    waves = np.array([1800.5, 1650.25, 1500.0, 1200.125, 1000.0625])

    def save(name, array, version=None, fortran=False):
        path = os.path.join(base, name)
        array = np.asfortranarray(array) if fortran else np.ascontiguousarray(array)
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, version=version)
        return np.load(path)

    # float32, C order, with its own axis file (float64).
    back = save("cube-f4.npy", cube)
    save("cube-f4_wavenumbers.npy", waves)
    expect("numpy/cube-f4.npy", back, np.load(os.path.join(base, "cube-f4_wavenumbers.npy")), "", "NumPy array",
           notes=["axis from cube-f4_wavenumbers.npy"])
    # int16 little-endian, header version 2, and uint8: the same axis file names their stems.
    back = save("cube-i2-v2.npy", (cube - 2000).astype("<i2"), version=(2, 0))
    save("cube-i2-v2_wavenumbers.npy", waves.astype(np.float32))
    expect("numpy/cube-i2-v2.npy", back, np.load(os.path.join(base, "cube-i2-v2_wavenumbers.npy")).astype(np.float64), "",
           "NumPy array")
    # A folder's shared axis; a big-endian float64 array in Fortran order, and a uint16 one.
    save("shared/wavenumbers.npy", waves)
    back = save("shared/fortran-f8be.npy", (cube.astype(np.float64) / 4).astype(">f8"), fortran=True)
    assert back.flags.f_contiguous
    expect("numpy/shared/fortran-f8be.npy", back, waves, "", "NumPy array", notes=["axis from wavenumbers.npy"])
    back = save("shared/u2.npy", (cube + 7).astype("<u2"))
    expect("numpy/shared/u2.npy", back, waves, "", "NumPy array")
    # Height × width only: one band, the axis the band index.
    back = save("plain/image-u1.npy", (10 * y[:, :, 0] + x[:, :, 0]).astype("|u1"))
    expect("numpy/plain/image-u1.npy", back[:, :, None], [0.0], "", "NumPy array", notes=["the axis is the band index"])
    # int8, 2-D, Fortran order, header version 3.
    back = save("plain/image-i1-f-v3.npy", (10 * y[:, :, 0] - 5 * x[:, :, 0] - 3).astype("|i1"), version=(3, 0), fortran=True)
    assert back.flags.f_contiguous
    expect("numpy/plain/image-i1-f-v3.npy", back[:, :, None], [0.0], "", "NumPy array")
    # Refused: an axis of another length, a 1-D array, complex numbers, a structured array, a truncated file.
    save("mismatch/cube.npy", cube)
    save("mismatch/wavenumbers.npy", waves[:4])
    expect_error("numpy/mismatch/cube.npy", "wavenumbers.npy", "(4,)", "expected 5 values")
    save("refused/spectrum.npy", waves)
    expect_error("numpy/refused/spectrum.npy", "shape (5,)", "height × width × bands")
    save("refused/complex.npy", cube.astype(np.complex64))
    expect_error("numpy/refused/complex.npy", "type '<c8'", "float32")
    save("refused/structured.npy", np.zeros((2, 2), dtype=[("a", "<f4"), ("b", "<i2")]))
    expect_error("numpy/refused/structured.npy", "structured array")
    path = os.path.join(base, "refused", "truncated.npy")
    save("refused/truncated.npy", cube)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:len(data) - 7])
    expect_error("numpy/refused/truncated.npy", "shape (3, 4, 5)", "needs 240 bytes", "holds 233")


def main():
    for sub in ("envi", "agilent", "wire", "spc", "fsm", "text", "numpy"):  # README.md, written by hand, stays
        shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)
    make_envi()
    make_agilent()
    make_wire()
    make_spc()
    make_fsm()
    make_text()
    make_numpy()
    with open(os.path.join(OUT, "expected.json"), "w") as f:  # one file a line
        f.write("{\n" + ",\n".join(json.dumps(k) + ": " + json.dumps(EXPECTED[k], ensure_ascii=False)
                                   for k in sorted(EXPECTED)) + "\n}\n")


if __name__ == "__main__":
    main()
