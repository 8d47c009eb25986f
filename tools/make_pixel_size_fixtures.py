"""Writes the files whose recorded pixel size the PixelSize tests read: Tests/Fixtures/pixelsize/*.

Usage (from the repository root):
    PY=$(../shared/bench/setup-torch.sh)    # a python with numpy, tifffile, PIL, h5py
    $PY tools/make_pixel_size_fixtures.py [OUTPUT_FOLDER]

Every file comes from writers independent of CompSeg: tifffile writes the TIFFs (resolution tags,
OME-XML, an Aperio-style description), PIL the PNGs (its dpi becomes a pHYs chunk), h5py the HDF5
files, and the ENVI header is plain text. expected.json gives, per file, the size in µm along x and
y that compseg must read, or null where it must read none. Each file is 8×8 pixels (a few hundred
bytes); rerunning rewrites the same files.
"""
import json
import os
import sys

import h5py
import numpy as np
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "Fixtures", "pixelsize")
os.makedirs(OUT, exist_ok=True)
rgb = (np.arange(8 * 8 * 3) % 251).astype(np.uint8).reshape(8, 8, 3)
expected = {}


def path(name):
    return os.path.join(OUT, name)


# TIFF resolution tags: per centimetre, per inch (x and y apart), a 72 dpi default, none at all.
tifffile.imwrite(path("res_cm.tif"), rgb, resolution=(40000, 40000), resolutionunit="CENTIMETER")
expected["res_cm.tif"] = [0.25, 0.25]
tifffile.imwrite(path("res_inch.tif"), rgb, resolution=(25400 / 0.5, 25400 / 0.8), resolutionunit="INCH")
expected["res_inch.tif"] = [0.5, 0.8]
tifffile.imwrite(path("res_72dpi.tif"), rgb, resolution=(72, 72), resolutionunit="INCH")
expected["res_72dpi.tif"] = None
tifffile.imwrite(path("res_none.tif"), rgb)
expected["res_none.tif"] = None

# OME-TIFF: µm by default, and another unit.
tifffile.imwrite(path("ome_um.ome.tif"), rgb, photometric="rgb", metadata={"axes": "YXS", "PhysicalSizeX": 0.325, "PhysicalSizeY": 0.325})
expected["ome_um.ome.tif"] = [0.325, 0.325]
tifffile.imwrite(path("ome_nm.ome.tif"), rgb, photometric="rgb",
                 metadata={"axes": "YXS", "PhysicalSizeX": 650, "PhysicalSizeXUnit": "nm", "PhysicalSizeY": 700, "PhysicalSizeYUnit": "nm"})
expected["ome_nm.ome.tif"] = [0.65, 0.7]

# Aperio: the MPP in the ImageDescription wins over resolution tags that say otherwise.
tifffile.imwrite(path("aperio.tif"), rgb, resolution=(72, 72), resolutionunit="INCH",
                 description="Aperio Image Library v12.0.15 \n8x8 [0,0 8x8] (8x8) RGB|AppMag = 20|MPP = 0.4990|Filename = spot")
expected["aperio.tif"] = [0.499, 0.499]

# PNG pHYs through PIL's dpi (pixels per metre, rounded).
Image.fromarray(rgb).save(path("phys.png"), dpi=(50800, 50800))
expected["phys.png"] = [0.5, 0.5]
Image.fromarray(rgb).save(path("phys_72dpi.png"), dpi=(72, 72))
expected["phys_72dpi.png"] = None
Image.fromarray(rgb).save(path("plain.png"))
expected["plain.png"] = None

# HDF5 in the infrared layout, with the root's pixel_size_um (a float, an integer), and refused ones.
wavenumbers = np.linspace(1000, 1800, 4)
spectra = (np.arange(8 * 8 * 4) % 17 + 1).astype(np.float32).reshape(8, 8, 4)
for name, value in [("h5_float.h5", 6.25), ("h5_int.h5", 5), ("h5_negative.h5", -1.0), ("h5_text.h5", "6.25 um")]:
    with h5py.File(path(name), "w") as f:
        f["spectra"] = spectra
        f["wavenumbers"] = wavenumbers
        f.attrs["pixel_size_um"] = value
expected["h5_float.h5"] = [6.25, 6.25]
expected["h5_int.h5"] = [5, 5]
expected["h5_negative.h5"] = "refused"
expected["h5_text.h5"] = "refused"

# ENVI: pixel size in micrometres, and in metres (ENVI's unit where none is named).
for name, size in [("envi_um", "{1.5, 2.5, units=Micrometers}"), ("envi_m", "{6.25e-6, 6.25e-6}")]:
    spectra.transpose(2, 0, 1).astype("<f4").tofile(path(name + ".img"))  # band-sequential
    with open(path(name + ".hdr"), "w") as f:
        f.write("ENVI\nsamples = 8\nlines = 8\nbands = 4\nheader offset = 0\ndata type = 4\ninterleave = bsq\n"
                f"byte order = 0\nwavelength units = cm-1\nwavelength = {{{', '.join(str(w) for w in wavenumbers)}}}\n"
                f"pixel size = {size}\n")
expected["envi_um.hdr"] = [1.5, 2.5]
expected["envi_m.hdr"] = [6.25, 6.25]

with open(path("expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
