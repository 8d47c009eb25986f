"""Writes the small HDF5 / MATLAB v7.3 files that Tests/ModalityTests reads: Tests/Fixtures/infrared/*.

Usage (from the repository root):
    $(../shared/bench/setup-torch.sh) tools/make_infrared_fixtures.py            # every file
    $(../shared/bench/setup-torch.sh) tools/make_infrared_fixtures.py bool_mask  # named writers only
(`setup-torch.sh` prints the virtualenv's python, e.g. /root/.venv-torch/bin/python, with numpy and h5py.)
Files are written with libver="v110" (readable by the system HDF5 1.10 CompSeg links).

Every file holds the SAME cube in a different layout, written by h5py (independent of CompSeg):
H = 4 rows (y), W = 5 columns (x), B = 6 bands (b), value(y, x, b) = 1 + 0.1*b + y + 10*x.
Wavenumbers: ascending 1790 + 2b, or descending 1800 - 2b; Tests/Fixtures/infrared/README.md says
which file has which. Output is deterministic.
"""
import os
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "infrared")
H, W, B = 4, 5, 6


def cube():
    """H×W×B float64 with 1 + 0.1 b + y + 10 x at [y, x, b]."""
    y, x, b = np.meshgrid(np.arange(H), np.arange(W), np.arange(B), indexing="ij")
    return 1 + 0.1 * b + y + 10 * x


ASCENDING = 1790.0 + 2 * np.arange(B)
DESCENDING = 1800.0 - 2 * np.arange(B)
MASK = ((np.arange(W)[None, :] + np.arange(H)[:, None]) % 2).astype(np.uint8)  # (x + y) % 2, H×W


def new(name, **kw):
    return h5py.File(os.path.join(OUT, name), "w", libver="v110", **kw)


def write_hwb():
    with new("hwb.h5") as f:
        f.create_dataset("spectra", data=cube(), dtype="f8", chunks=(2, 5, 3), compression="gzip", compression_opts=4)
        f["wavenumbers"] = ASCENDING
        f["mask"] = MASK


def write_bhw():
    with new("bhw.h5") as f:
        f["spectra"] = np.ascontiguousarray(cube().transpose(2, 0, 1)).astype(np.float32)  # B×H×W
        f["wavenumbers"] = DESCENDING


def write_pyir(name, attributes):
    """PyIR-style: data/intensities (pixels×B, pixel = y*W + x), data/xvalues (B), flat tissue mask."""
    with new(name) as f:
        f["data/intensities"] = cube().reshape(H * W, B).astype(np.float32)
        f["data/xvalues"] = ASCENDING
        f["data/tissue_mask"] = MASK.reshape(H * W)
        if attributes:
            f.attrs["ypixels"] = np.int64(H)
            f.attrs["xpixels"] = np.int64(W)
        else:
            f["data/xpixels"] = np.int64(W)                  # scalar dataset
            f["data/ypixels"] = np.array([H], dtype=np.int32)  # 1-element dataset


def write_matlab():
    """MATLAB v7.3: an HDF5 file after a 512-byte user block; MATLAB is column-major, so its H×W×B
    array `cube` is stored as B×W×H, its 1×B row vector `wn` as B×1, its H×W logical `mask` as W×H."""
    path = os.path.join(OUT, "matlab.mat")
    with h5py.File(path, "w", libver="v110", userblock_size=512) as f:
        def put(name, data, cls):
            d = f.create_dataset(name, data=data)
            d.attrs["MATLAB_class"] = np.bytes_(cls)
            return d
        put("cube", np.ascontiguousarray(cube().transpose(2, 1, 0)), "double")
        put("wn", DESCENDING.reshape(B, 1), "double")
        m = put("mask", np.ascontiguousarray(MASK.T), "logical")
        m.attrs["MATLAB_int_decode"] = np.int32(1)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2025 HDF5 schema 1.00 ."
    with open(path, "r+b") as f:
        block = header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
        f.write(block.ljust(512, b"\x00"))


def write_bool_mask():
    """As hwb.h5 (default layout), but `/mask` from a numpy bool array, which h5py stores as an HDF5
    enum over int8 (FALSE = 0, TRUE = 1). Also `/classes`, an enum over int16 whose values are not
    0, 1, 2 (so a reader must give the values, not the member indices), and `/note`, a string."""
    with new("bool_mask.h5") as f:
        f["spectra"] = cube()
        f["wavenumbers"] = ASCENDING
        f["mask"] = MASK.astype(bool)
        classes = h5py.enum_dtype({"BACKGROUND": -3, "STROMA": 0, "CANCER": 5}, basetype="i2")
        f.create_dataset("classes", data=np.array([[-3, 0, 5], [5, 5, -3]], dtype=np.int16), dtype=classes)
        f["note"] = "not a number"


def write_errors():
    with new("bad_bands.h5") as f:  # 6 bands, 5 wavenumbers
        f["spectra"] = cube().astype(np.float32)
        f["wavenumbers"] = ASCENDING[:5]
    with new("nan.h5") as f:  # NaN at y = 2, x = 3, band 4
        c = cube().astype(np.float32)
        c[2, 3, 4] = np.nan
        f["spectra"] = c
        f["wavenumbers"] = ASCENDING
    with new("missing.h5") as f:  # no /spectra
        f["cube"] = cube().astype(np.float32)
        f["wavenumbers"] = ASCENDING
    with new("flat_mismatch.h5") as f:  # 19 pixels, but 4×5 claimed
        f["data/intensities"] = cube().reshape(H * W, B)[:19].astype(np.float32)
        f["data/xvalues"] = ASCENDING
        f["data/xpixels"] = np.int64(W)
        f["data/ypixels"] = np.int64(H)
    with new("lzf.h5") as f:  # h5py's own LZF compression (filter 32000), which libhdf5 lacks unless a plugin adds it
        # Constant values, one chunk: LZF shrinks it (a chunk it cannot shrink is stored as it is, readable without it).
        f.create_dataset("spectra", data=np.full((H, W, B), 2.0, np.float32), chunks=(H, W, B), compression="lzf")
        f["wavenumbers"] = ASCENDING
    with new("large_unwritten.h5") as f:  # 1200×1200×450 declared (2.6 GB as float32), never written: within maximumValues
        f.create_dataset("spectra", shape=(1200, 1200, 450), dtype=np.float32, chunks=(64, 64, 450), compression="gzip")
        f["wavenumbers"] = np.linspace(1800, 948, 450)
    with new("huge_declared.h5") as f:  # 1048576×1048576×450 declared, never written: a tiny file
        f.create_dataset("spectra", shape=(1 << 20, 1 << 20, 450), dtype=np.float32, chunks=(1, 64, 450), compression="gzip")
        f["wavenumbers"] = np.linspace(1800, 948, 450)
    with new("pixels_overflow.h5") as f:  # 2⁴⁰×2⁴⁰×2 declared, never written: height × width overflows 64 bits
        f.create_dataset("spectra", shape=(1 << 40, 1 << 40, 2), dtype=np.float32, chunks=(1, 1, 2), compression="gzip")
        f["wavenumbers"] = np.array([1800.0, 948.0])


def write_hostile():
    """Files whose declared sizes or values once crashed the reader (found by fuzz/hdf5_layout)."""
    spectra = cube().astype(np.float32)
    with new("hostile_height_inf.h5") as f:  # flat layout whose height dataset holds +inf
        f["data/intensities"] = spectra.reshape(H * W, B)
        f["data/xvalues"] = ASCENDING
        f["data/xpixels"] = np.float64(W)
        f["data/ypixels"] = np.float64(np.inf)
    with new("hostile_height_huge.h5") as f:  # height 1e30: beyond any integer
        f["data/intensities"] = spectra.reshape(H * W, B)
        f["data/xvalues"] = ASCENDING
        f["data/xpixels"] = np.float64(W)
        f["data/ypixels"] = np.float64(1e30)
    with new("hostile_size_overflow.h5") as f:  # height × width overflows 64 bits (attributes)
        f["data/intensities"] = spectra.reshape(H * W, B)
        f["data/xvalues"] = ASCENDING
        f.attrs["xpixels"] = np.int64(1 << 62)
        f.attrs["ypixels"] = np.int64(1 << 62)
    with new("hostile_range.h5") as f:  # values ±3e38: their range overflows Float
        c = spectra.copy()
        c[0, 0, :] = -3e38
        c[3, 4, :] = 3e38
        f["spectra"] = c
        f["wavenumbers"] = ASCENDING
    with new("hostile_wavenumbers_declared.h5") as f:  # 2^40 wavenumbers declared, never written
        f["spectra"] = spectra
        f.create_dataset("wavenumbers", shape=(1 << 40,), dtype=np.float32, chunks=(1024,))
    with new("axis_nan.h5") as f:  # a NaN among the wavenumbers
        f["spectra"] = spectra
        f["wavenumbers"] = np.where(np.arange(B) == 2, np.nan, ASCENDING)
    with new("axis_constant.h5") as f:  # every wavenumber 1000
        f["spectra"] = spectra
        f["wavenumbers"] = np.full(B, 1000.0)
    with new("hostile_mask_overflow.h5") as f:  # a mask whose shape's product overflows 64 bits
        f["spectra"] = spectra
        f["wavenumbers"] = ASCENDING
        f.create_dataset("mask", shape=(1 << 40, 1 << 40), dtype=np.uint8, chunks=(1, 16))


def write_elsewhere():
    """Files whose values lie in other files: external raw data (outside.bin beside them), an
    external link, and a virtual dataset. The reader must refuse each, reading nothing outside."""
    spectra = cube().astype(np.float32)
    spectra.tofile(os.path.join(OUT, "outside.bin"))
    with new("elsewhere_storage.h5") as f:
        f.create_dataset("spectra", shape=spectra.shape, dtype=np.float32,
                         external=[("outside.bin", 0, spectra.nbytes)])
        f["wavenumbers"] = ASCENDING
    with new("elsewhere_link.h5") as f:
        f["spectra"] = h5py.ExternalLink("hwb.h5", "/spectra")
        f["wavenumbers"] = ASCENDING
    with new("elsewhere_soft.h5") as f:  # a soft link to an external one
        f["outside"] = h5py.ExternalLink("hwb.h5", "/spectra")
        f["spectra"] = h5py.SoftLink("/outside")
        f["wavenumbers"] = ASCENDING
    layout = h5py.VirtualLayout(shape=spectra.shape, dtype=np.float32)
    layout[...] = h5py.VirtualSource("hwb.h5", "spectra", shape=spectra.shape)
    with new("elsewhere_virtual.h5") as f:
        f.create_virtual_dataset("spectra", layout)
        f["wavenumbers"] = ASCENDING


WRITERS = {
    "hwb": write_hwb,
    "bhw": write_bhw,
    "pyir": lambda: write_pyir("pyir.h5", attributes=False),
    "pyir_attrs": lambda: write_pyir("pyir_attrs.h5", attributes=True),
    "matlab": write_matlab,
    "bool_mask": write_bool_mask,
    "errors": write_errors,
    "hostile": write_hostile,
    "elsewhere": write_elsewhere,
}


if __name__ == "__main__":
    names = sys.argv[1:] or list(WRITERS)
    unknown = [n for n in names if n not in WRITERS]
    if unknown:
        sys.exit(f"unknown writer(s) {unknown}; choose from {list(WRITERS)}")
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        WRITERS[name]()
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        assert size < 10_000, (name, size)
        print(f"{name}: {size} bytes")
