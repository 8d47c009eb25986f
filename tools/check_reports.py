"""Checks the reports and screenshots that tools/check_reports.sh made (see there).

For each of demo, eval and cmp: every <img> in report.html is a data URI that decodes (PNG opened
by PIL, SVG parsed as XML); in Chromium every image loaded (naturalWidth > 0) and a 700 px wide
window needs no horizontal scrolling; the 1400×2000 screenshot is not blank. For the ROC figures
(roc.svg as Chromium draws it, and roc.png): the curve's colour is present, the frame keeps its
own colour along its whole left edge, and the curve's leftmost leg lies in other columns than
the frame. Prints one line per check and exits non-zero when any fails.
"""
import base64
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from PIL import Image

out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/compseg-report-check")
failures = []


def check(ok, message):
    print(("ok    " if ok else "FAIL  ") + message)
    if not ok:
        failures.append(message)


def images(html):
    for src in re.findall(r'<img [^>]*src="([^"]*)"', html):
        if not src.startswith("data:"):
            yield None, src[:60]
            continue
        head, _, payload = src.partition(",")
        yield head[5:].replace(";base64", ""), base64.b64decode(payload, validate=True)


def near(rgb, colour, tolerance):
    return np.all(np.abs(rgb.astype(int) - np.array(colour)) <= tolerance, axis=-1)


for report in ["demo", "eval", "cmp"]:
    html = (out / report / "report.html").read_text()
    kinds, bad = {}, []
    for mime, data in images(html):
        try:
            if mime == "image/png":
                Image.open(io.BytesIO(data)).load()
            elif mime == "image/svg+xml":
                assert ET.fromstring(data).tag.endswith("svg")
            else:
                raise ValueError(f"not embedded or unknown type: {data}")
            kinds[mime] = kinds.get(mime, 0) + 1
        except Exception as error:  # noqa: BLE001 - every failure is reported
            bad.append(f"{mime}: {error}")
    total = sum(kinds.values())
    check(not bad and total > 0, f"{report}: {total} embedded images decode ({kinds}){'; bad: ' + str(bad[:3]) if bad else ''}")

    dom = (out / "shots" / f"{report}-dom.html").read_text()
    body = re.search(r"<body([^>]*)>", dom).group(1)
    loaded = re.search(r'data-images="(\d+)"', body)
    broken = re.search(r'data-broken="([^"]*)"', body)
    overflow = re.search(r'data-overflow="(-?\d+)"', body)
    broken_list = json.loads(broken.group(1).replace("&quot;", '"')) if broken else None
    check(loaded is not None and int(loaded.group(1)) == total and broken_list == [],
          f"{report}: Chromium loaded {loaded.group(1) if loaded else '?'} images, broken: {broken_list}")
    check(overflow is not None and int(overflow.group(1)) <= 0,
          f"{report}: at 700 px wide the page needs no horizontal scrolling (overflow {overflow.group(1) if overflow else '?'} px)")

    for name in [report, f"{report}-narrow"]:
        shot = np.asarray(Image.open(out / "shots" / f"{name}.png").convert("RGB"))
        inked = float(np.mean(np.any(shot < 235, axis=-1)))
        colours = len(np.unique(shot.reshape(-1, 3)[::7], axis=0))
        check(inked > 0.01 and shot.std() > 15 and colours > 200,
              f"{name}.png {shot.shape[1]}×{shot.shape[0]}: {inked:.0%} of pixels inked, {colours} colours, sd {shot.std():.0f}")

curve_colour, frame_colour = (31, 119, 180), (60, 60, 60)
for name, path in [("roc-demo (Chromium, roc.svg)", out / "shots" / "roc-demo.png"),
                   ("roc-cmp (Chromium, roc.svg)", out / "shots" / "roc-cmp.png"),
                   ("demo roc.png", out / "demo" / "roc.png"), ("eval roc.png", out / "eval" / "roc.png")]:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    curve = near(rgb, curve_colour, 40)
    frame = near(rgb, frame_colour, 30)
    h, w = frame.shape
    frame_x = int(np.argmax(frame[:, : w // 2].sum(axis=0)))  # the frame's left edge: the column with most frame pixels
    edge_rows = np.nonzero(frame[:, frame_x])[0]
    top, bottom = int(edge_rows.min()), int(edge_rows.max())
    kept = float(frame[top:bottom + 1, frame_x].mean())
    on_frame = int(curve[top:bottom + 1, frame_x].sum())
    leg = int(np.argmax(curve[:, : w // 2].sum(axis=0)))  # the curve's left leg: the column with most curve pixels
    leg_rows = int(curve[:, leg].sum())
    check(curve.sum() > 300 and kept > 0.95 and on_frame == 0 and leg > frame_x,
          f"{name}: {int(curve.sum())} curve pixels, none on the frame (frame at x={frame_x} keeps its colour over "
          f"{kept:.0%} of rows {top}–{bottom}; a ringed marker may cover a few); the curve's left leg is "
          f"x={leg} ({leg_rows} px tall), {leg - frame_x} px inside the frame")

# Information, not a check: the period-2 pattern of the transposed convolutions (docs/method.md,
# "Checkerboard artefacts") in evaluate's float maps: each map minus its 3×3 mean, averaged per
# pixel parity (x mod 2, y mod 2); the spread of the four means, in activation units.
spreads = []
for path in sorted((out / "eval").glob("*_map.tif")):
    m = np.asarray(Image.open(path), dtype=np.float64)
    p = np.pad(m, 1, mode="edge")
    residual = m - sum(p[dy:dy + m.shape[0], dx:dx + m.shape[1]] for dy in range(3) for dx in range(3)) / 9
    parity = [residual[a::2, b::2].mean() for a in (0, 1) for b in (0, 1)]
    spreads.append(max(parity) - min(parity))
if spreads:
    print(f"info  checkerboard: period-2 parity spread of {len(spreads)} evaluate maps: median {np.median(spreads):.4f}, "
          f"max {np.max(spreads):.4f} (activation units)")

print(f"{len(failures)} failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)
