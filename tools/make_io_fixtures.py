"""Writes the small image and HDF5 files that Tests/CompSegIOTests reads: Tests/Fixtures/io/*.

Usage (from the repository root):
    $(../shared/bench/setup-torch.sh) tools/make_io_fixtures.py
(`setup-torch.sh` prints the virtualenv's python, which has numpy, h5py, PIL, tifffile, imagecodecs.)
h5py may bundle a newer HDF5 than the system library CompSeg links, so cube.h5 is written with
libver="v110" (readable by HDF5 >= 1.10, and smaller than the "earliest" format).

The files come from writers independent of CompSeg (PIL, tifffile, h5py), so the Swift readers are
checked against other implementations. Every value follows a formula the Swift tests recompute
(x = column, y = row, c = channel or band); Tests/Fixtures/io/README.md lists them. Output is
deterministic; rerunning rewrites the same values.
"""
import os

import h5py
import numpy as np
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "io")
W, H = 5, 4  # every image is 5 wide, 4 high


def grid(channels, formula):
    """An H×W×channels array with formula(x, y, c) at [y, x, c]."""
    y, x, c = np.meshgrid(np.arange(H), np.arange(W), np.arange(channels), indexing="ij")
    return formula(x, y, c)


def byte(x, y, c):
    return (x + 10 * y + 100 * c) % 256


PALETTE = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]


def write_pngs():
    g = grid(1, byte).astype(np.uint8)
    Image.fromarray(g[:, :, 0], mode="L").save(os.path.join(OUT, "gray.png"))
    Image.fromarray(grid(3, byte).astype(np.uint8), mode="RGB").save(os.path.join(OUT, "rgb.png"))
    Image.fromarray(grid(4, byte).astype(np.uint8), mode="RGBA").save(os.path.join(OUT, "rgba.png"))
    index = ((np.arange(W)[None, :] + np.arange(H)[:, None]) % 4).astype(np.uint8)  # (x + y) % 4
    p = Image.fromarray(index, mode="P")
    p.putpalette([v for rgb in PALETTE for v in rgb])
    p.save(os.path.join(OUT, "palette.png"), optimize=False)
    data = open(os.path.join(OUT, "rgb.png"), "rb").read()
    # Cut inside the image data: keeps the header, loses the end of IDAT and IEND.
    open(os.path.join(OUT, "truncated.png"), "wb").write(data[: len(data) - 24])


def write_tiffs():
    f = grid(2, lambda x, y, c: x + 10 * y + 100 * c + 0.25).astype(np.float32)
    tifffile.imwrite(os.path.join(OUT, "float32.tif"), f, photometric="minisblack", planarconfig="contig",
                     rowsperstrip=2, metadata=None)
    rgb = grid(3, byte).astype(np.uint8)
    tifffile.imwrite(os.path.join(OUT, "rgb8.tif"), rgb, photometric="rgb", compression="zlib",
                     rowsperstrip=3, metadata=None)
    gray = grid(1, byte).astype(np.uint8)[:, :, 0]
    tifffile.imwrite(os.path.join(OUT, "gray8_lzw.tif"), gray, photometric="minisblack", compression="lzw",
                     predictor=True, metadata=None)
    # Unsupported variants, for the error messages.
    tifffile.imwrite(os.path.join(OUT, "gray16.tif"), gray.astype(np.uint16), photometric="minisblack", metadata=None)
    tifffile.imwrite(os.path.join(OUT, "planar.tif"), np.moveaxis(f, 2, 0), photometric="minisblack",
                     planarconfig="separate", metadata=None)


def write_hdf5():
    bands = 6
    with h5py.File(os.path.join(OUT, "cube.h5"), "w", libver="v110") as h5:
        spectra = grid(bands, lambda x, y, b: x + 10 * y + 100 * b + 0.5).astype(np.float32)
        h5.create_dataset("spectra", data=spectra, chunks=(2, 5, 3), compression="gzip", compression_opts=4)
        h5["spectra"].attrs["version"] = np.int32(3)
        h5.create_dataset("wavenumbers", data=1800.5 - 100.0 * np.arange(bands), dtype=np.float64)
        mask = ((np.arange(W)[None, :] + np.arange(H)[:, None]) % 2).astype(np.uint8)  # (x + y) % 2
        h5.create_dataset("mask", data=mask)
        h5.create_dataset("data/intensities", data=np.array([[-3, 0, 7], [1000, -32768, 32767]], dtype=np.int16))
        h5.attrs["pixels"] = np.int64(-20)
        h5.attrs["instrument"] = "Spero QCL"  # variable-length UTF-8 (h5py's str)
        h5.attrs["units"] = np.bytes_(b"absorbance")  # fixed-length ASCII
    with open(os.path.join(OUT, "not_hdf5.h5"), "w") as f:
        f.write("This is a text file, not HDF5.\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_pngs()
    write_tiffs()
    write_hdf5()
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        assert size < 10_000, f"{name} is {size} bytes"
        print(f"{name:16} {size:6} bytes")
