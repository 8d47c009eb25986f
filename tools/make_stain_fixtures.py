"""Writes the H&E stain-normalisation fixtures that the HE modality tests read: Tests/Fixtures/stain/.

Usage (from the repository root):
    PY=/root/.venv-torch/bin/python                 # any Python with numpy and Pillow
    $PY -m pip install torchstain==1.4.1            # numpy 2.4.6, Pillow 13.0.0 were used
    $PY tools/make_stain_fixtures.py

Expected values come from torchstain's numpy backend (independent of CompSeg):
`torchstain.normalizers.MacenkoNormalizer(backend="numpy")` and `ReinhardNormalizer(backend="numpy")`,
i.e. `torchstain.numpy.normalizers.NumpyMacenkoNormalizer` / `NumpyReinhardNormalizer`, every default
(Macenko Io=240, alpha=1, beta=0.15; Reinhard method=None, statistics over the whole image).

Inputs (inputs/*.png, 48x48 RGB uint8, seeded): synthetic H&E-like tiles made by Beer-Lambert mixing,
I = 240 exp(-(cH h + cE e + noise)), of a hematoxylin vector h and an eosin vector e: an eosin field
(smooth, pink), hematoxylin nuclei (purple discs), white background (glass, 228..255) and pixel noise.
"a" standard Ruifrok vectors, "b" darker and more purple, "c" pale with more glass, "ref" the reference
(other vectors, stronger eosin). Every PNG is plain 8-bit RGB (no gamma chunk).

Expected outputs:
- macenko_default/<name>.png: `NumpyMacenkoNormalizer().normalize(I)[0]` (the default reference
  HERef/maxCRef); for "a" also macenko_default/a_H.png and a_E.png (the H and E images it returns).
- macenko_fitted/<name>.png: after `fit(ref)`, `normalize(I)[0]`.
- reinhard/<name>.png: `NumpyReinhardNormalizer()`, `fit(ref)`, `normalize(I)`.
- expected.json: for every input, Macenko's own estimate (HE 3x2 and maxC from its private
  __compute_matrices, the number of tissue pixels i.e. OD >= beta in every channel, the eigenvectors
  np.linalg.eigh returned, LAPACK's sign choice, and the angle percentiles minPhi/maxPhi) and Reinhard's
  LAB statistics (float32 means/stds, as torchstain's lab_split units: L/2.55, a-128, b-128); the
  reference fit (HERef, maxCRef, Reinhard target means/stds); and "hostile": what torchstain does on
  degenerate images (all white, all black, one colour, 1x1), exception type and message or the first
  output pixel.

Every float is written with repr (shortest round-trip): parse exactly (JSONDecoder or Double(String)).
float32 statistics are written as the float64 value of the float32 (Float(Double) recovers it exactly).
Output is deterministic; rerunning rewrites the same files.
"""
import importlib.metadata
import json
import os
import warnings

import numpy as np
from PIL import Image
from torchstain.numpy.normalizers.macenko import NumpyMacenkoNormalizer
from torchstain.numpy.normalizers.reinhard import NumpyReinhardNormalizer
from torchstain.numpy.utils.rgb2lab import rgb2lab
from torchstain.numpy.utils.split import lab_split
from torchstain.numpy.utils.stats import get_mean_std

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "stain")
SIZE = 48


def unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def make_tile(seed, h, e, h_scale, e_scale, glass, nuclei):
    """A SIZE x SIZE uint8 H&E-like tile."""
    rng = np.random.default_rng(seed)
    h, e = unit(h), unit(e)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    # Eosin: a smooth field (sum of a few broad bumps) over the tissue.
    ce = np.zeros((SIZE, SIZE))
    for _ in range(4):
        cy, cx, s = rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(8, 20)
        ce += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    ce = e_scale * (0.45 + 0.55 * ce / ce.max())
    # Hematoxylin: nuclei, discs of radius 2..4 with soft edges.
    ch = np.zeros((SIZE, SIZE))
    for _ in range(nuclei):
        cy, cx, r = rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(2, 4)
        d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        ch = np.maximum(ch, rng.uniform(0.7, 1.2) * np.clip(r + 0.5 - d, 0, 1))
    ch = h_scale * (ch + 0.3 * ce / e_scale)  # some hematoxylin in the cytoplasm too, following the eosin
    # Glass: a region with no tissue (the side beyond a wavy boundary).
    tissue = xx + 4 * np.sin(yy / 5.0) > glass * SIZE
    od = (ch[..., None] * h + ce[..., None] * e) * tissue[..., None]
    od += rng.normal(0, 0.03, od.shape) * tissue[..., None]
    img = 240 * np.exp(-od) + rng.normal(0, 2.0, od.shape)
    img = np.where(tissue[..., None], img, rng.uniform(228, 255, od.shape))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


INPUTS = {
    "a": make_tile(11, [0.65, 0.70, 0.29], [0.07, 0.99, 0.11], 1.0, 0.8, 0.20, 14),
    "b": make_tile(12, [0.55, 0.76, 0.34], [0.12, 0.95, 0.28], 1.4, 1.0, 0.10, 20),
    "c": make_tile(13, [0.68, 0.66, 0.31], [0.05, 0.98, 0.18], 0.8, 0.6, 0.40, 10),
    "ref": make_tile(14, [0.60, 0.75, 0.28], [0.20, 0.90, 0.38], 1.1, 0.9, 0.15, 16),
}


def save_png(rel, arr):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8), mode="RGB").save(path, optimize=True)


def floats(a):
    return [float(x) for x in np.asarray(a, float).ravel()]


def macenko_estimate(img):
    """torchstain's own intermediate values (its private methods, the defaults)."""
    m = NumpyMacenkoNormalizer()
    HE, C, maxC = m._NumpyMacenkoNormalizer__compute_matrices(img.reshape(-1, 3), 240, 1, 0.15)
    I = img.reshape(-1, 3)
    OD = -np.log((I.astype(float) + 1) / 240)
    ODhat = OD[~np.any(OD < 0.15, axis=1)]
    _, V = np.linalg.eigh(np.cov(ODhat.T))
    That = ODhat.dot(V[:, 1:3])
    phi = np.arctan2(That[:, 1], That[:, 0])
    return {
        "HE": [floats(row) for row in HE],
        "maxC": floats(maxC),
        "tissue_pixels": int(len(ODhat)),
        "eigh_eigenvectors": [floats(row) for row in V],
        "lapack_largest_eigenvector_sign": int(np.sign(V[:, 2].sum())),
        "min_phi": float(np.percentile(phi, 1)),
        "max_phi": float(np.percentile(phi, 99)),
    }


def reinhard_stats(img):
    lab = rgb2lab(img.astype("float32") / 255)
    s = np.array([get_mean_std(x) for x in lab_split(lab)])
    return {"means": floats(s[:, 0]), "stds": floats(s[:, 1])}


def hostile():
    cases = {
        "white_16x16": np.full((16, 16, 3), 255, np.uint8),
        "black_16x16": np.zeros((16, 16, 3), np.uint8),
        "pink_16x16": np.tile(np.array([200, 120, 170], np.uint8), (16, 16, 1)),
        "one_pixel": np.array([[[150, 80, 160]]], np.uint8),
    }
    out = {}
    for name, img in cases.items():
        row = {"pixel": [int(v) for v in img[0, 0]], "height": img.shape[0], "width": img.shape[1]}
        for what, run in [("macenko_normalize", lambda I: NumpyMacenkoNormalizer().normalize(I)[0]),
                          ("macenko_fit", lambda I: NumpyMacenkoNormalizer().fit(I)),
                          ("reinhard_self", lambda I: (lambda r: (r.fit(I), r.normalize(I))[1])(NumpyReinhardNormalizer()))]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    res = run(img)
                    row[what] = "ok" if res is None else "ok, first pixel " + str([int(v) for v in res[0, 0]])
                except Exception as err:  # noqa: BLE001 - recording what it raises is the point
                    row[what] = f"{type(err).__module__}.{type(err).__name__}: {err}"
        out[name] = row
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, img in INPUTS.items():
        save_png(f"inputs/{name}.png", img)
    expected = {"torchstain_version": importlib.metadata.version("torchstain"),
                "numpy_version": np.__version__, "size": SIZE,
                "macenko_defaults": {"Io": 240, "alpha": 1, "beta": 0.15,
                                     "HERef": [floats(r) for r in NumpyMacenkoNormalizer().HERef],
                                     "maxCRef": floats(NumpyMacenkoNormalizer().maxCRef)},
                "inputs": {}}

    default = NumpyMacenkoNormalizer()
    for name, img in INPUTS.items():
        inorm, H, E = default.normalize(img)
        save_png(f"macenko_default/{name}.png", inorm)
        if name == "a":
            save_png("macenko_default/a_H.png", H)
            save_png("macenko_default/a_E.png", E)
        expected["inputs"][name] = {"macenko": macenko_estimate(img), "reinhard": reinhard_stats(img)}

    fitted = NumpyMacenkoNormalizer()
    fitted.fit(INPUTS["ref"])
    expected["macenko_fit_ref"] = {"HERef": [floats(r) for r in fitted.HERef], "maxCRef": floats(fitted.maxCRef)}
    for name, img in INPUTS.items():
        save_png(f"macenko_fitted/{name}.png", fitted.normalize(img)[0])

    reinhard = NumpyReinhardNormalizer()
    reinhard.fit(INPUTS["ref"])
    expected["reinhard_fit_ref"] = {"target_means": floats(reinhard.target_means),
                                    "target_stds": floats(reinhard.target_stds)}
    for name, img in INPUTS.items():
        save_png(f"reinhard/{name}.png", reinhard.normalize(img))

    expected["hostile"] = hostile()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
