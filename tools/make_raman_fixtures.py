"""Writes the Raman preprocessing fixture that Tests/ModalityTests reads: Tests/Fixtures/raman/baselines.json.

Usage (from the repository root):
    PY=$(../shared/bench/setup-torch.sh)           # e.g. /root/.venv-torch/bin/python, with numpy
    $PY -m pip install pybaselines==1.2.1 scipy==1.17.1
    $PY tools/make_raman_fixtures.py

Expected baselines come from pybaselines (independent of CompSeg; without pentapy installed it solves the
Whittaker systems with scipy.linalg.solveh_banded, a banded Cholesky in float64):
- "arpls", "airpls", "imodpoly": `Baseline(x_data=axis).<method>(y)` with every default
  (arpls lam=1e5, airpls lam=1e6, both diff_order=2, max_iter=50, tol=1e-3; imodpoly poly_order=2,
  tol=1e-3, max_iter=250, use_original=False, mask_initial_peaks=True, num_std=1), with the iteration
  count each took (len(params["tol_history"])).
- "asls_10": `asls(y, lam=1e6, p=0.01, max_iter=9, tol=-1)`: exactly 10 solves, which is CompSeg's `als`
  with {lambda: 1e6, p: 0.01, iterations: 10} (pybaselines' default tol=1e-3 instead stops once the
  weights stop changing: "asls_default_iterations" says after how many solves).

Spectra: Raman-like, Lorentzian bands at 785, 1004, 1250, 1450 and 1660 cm^-1 on a broad fluorescence
background, Gaussian noise (seeded), rounded to float32 (the inputs CompSeg sees are float32; pybaselines
gets the same values in float64). Axes lie on short decimal grids (exact in float64); the third is
descending (pybaselines sorts it; the Whittaker methods do not use the spacing, imodpoly maps x onto
[-1, 1]).

"despike": spectra of the same kind with planted cosmic-ray spikes, 1 or 2 bands wide, 3-50x the clean
value there, placed at least 3 FWHM from every band centre (a spike on a steep band flank is out of
scope). Each lists "spiked" (the input), "spikes" (the planted band indices), "clean" (the values at those
indices before the spikes were added), "noise_sigma", and "bands" ([centre, fwhm, height] in the units of
the spectrum, for reference). A despiker should restore the spike bands to within a few noise_sigma and
leave every other band exactly as it is.

Every float is written with repr (shortest round-trip): parse exactly (JSONDecoder or Double(String)).
Output is deterministic; rerunning rewrites the same file.
"""
import json
import os

import numpy as np
from pybaselines import Baseline

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "raman", "baselines.json")

# (centre cm^-1, FWHM cm^-1, height relative to the strongest band)
BANDS = [(785.0, 14.0, 0.6), (1004.0, 9.0, 1.0), (1250.0, 30.0, 0.4), (1450.0, 22.0, 0.7), (1660.0, 28.0, 0.8)]


def lorentzians(x, scale):
    return sum(scale * h / (1 + (2 * (x - c) / w) ** 2) for c, w, h in BANDS)


def background(x, kind):
    t = (x - 400.0) / 1400.0
    if kind == "quadratic":
        return 3000.0 - 1500.0 * t + 800.0 * t * t
    if kind == "exponential":
        return 800.0 + 2500.0 * np.exp(-2.5 * t)
    return 1200.0 + 900.0 * np.exp(-0.5 * ((t - 0.55) / 0.35) ** 2) + 300.0 * t  # broad hump


SPECTRA = [  # name, axis, background, band scale, noise sigma, seed
    ("quadratic_281", np.arange(281) * 5.0 + 400.0, "quadratic", 1500.0, 15.0, 1),
    ("exponential_401", np.arange(401) * 3.5 + 400.0, "exponential", 2500.0, 20.0, 2),
    ("hump_467_descending", 1800.0 - np.arange(467) * 3.0, "hump", 1000.0, 10.0, 3),
]


def spectrum(axis, kind, scale, sigma, seed):
    rng = np.random.default_rng(seed)
    y = background(axis, kind) + lorentzians(axis, scale) + rng.normal(0.0, sigma, axis.size)
    return y.astype(np.float32).astype(np.float64)


def floats(a):
    return [float(v) for v in a]


def baselines():
    out = []
    for name, axis, kind, scale, sigma, seed in SPECTRA:
        y = spectrum(axis, kind, scale, sigma, seed)
        fitter = Baseline(x_data=axis)
        entry = {"name": name, "axis": floats(axis), "y": floats(y)}
        for method in ("arpls", "airpls", "imodpoly"):
            base, params = getattr(fitter, method)(y)
            entry[method] = floats(base)
            entry[method + "_iterations"] = int(len(params["tol_history"]))
        base, params = fitter.asls(y, lam=1e6, p=0.01, max_iter=9, tol=-1)
        assert len(params["tol_history"]) == 10
        entry["asls_10"] = floats(base)
        entry["asls_default_iterations"] = int(len(fitter.asls(y, lam=1e6, p=0.01)[1]["tol_history"]))
        out.append(entry)
    return out


def despike():
    out = []
    cases = [  # name, axis, background, band scale, noise sigma, seed, spike count
        ("despike_quadratic_561", 400.0 + np.arange(561) * 2.5, "quadratic", 3000.0, 10.0, 11, 10),
        ("despike_exponential_401", 400.0 + np.arange(401) * 3.5, "exponential", 2500.0, 15.0, 12, 8),
    ]
    for name, axis, kind, scale, sigma, seed, count in cases:
        rng = np.random.default_rng(seed)
        clean = background(axis, kind) + lorentzians(axis, scale) + rng.normal(0.0, sigma, axis.size)
        clean = clean.astype(np.float32)
        far = np.all([np.abs(axis - c) > 3 * w for c, w, _ in BANDS], axis=0)
        spiked = clean.copy()
        taken = np.zeros(axis.size, bool)
        spikes = []
        while len(spikes) < count:
            i = int(rng.integers(2, axis.size - 3))
            width = 1 + int(rng.integers(0, 2))  # 1 or 2 bands
            window = slice(i - 4, i + width + 4)  # keep spikes apart (the kernel is +-3)
            if not far[i:i + width].all() or taken[window].any():
                continue
            taken[window] = True
            for j in range(i, i + width):
                spiked[j] = np.float32(clean[j] * rng.uniform(3.0, 50.0))
                spikes.append(j)
        order = np.argsort(spikes)
        spikes = [spikes[k] for k in order]
        out.append({
            "name": name, "axis": floats(axis), "spiked": floats(spiked), "spikes": spikes,
            "clean": floats(clean[spikes]), "noise_sigma": sigma,
            "bands": [[c, w, h * scale] for c, w, h in BANDS],
        })
    return out


def main():
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    data = {"baselines": baselines(), "despike": despike()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
