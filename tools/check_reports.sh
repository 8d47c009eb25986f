#!/usr/bin/env bash
# Makes the three kinds of report (demo, evaluate, compare) with short runs, screenshots them in
# headless Chromium, and checks the screenshots and the pages with tools/check_reports.py: every
# image embedded and decoded by the browser (none broken), the page not blank, and the ROC curve's
# pixels apart from the frame's.
#
# Usage: tools/check_reports.sh [OUT]      (default OUT: /tmp/compseg-report-check)
# Needs: a release build (.build/release/compseg, or COMPSEG=…), chromium (apt-get install chromium),
# and a Python with numpy and PIL (PYTHON=…; default /root/.venv-torch/bin/python, made by
# ../shared/bench/setup-torch.sh, else python3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-/tmp/compseg-report-check}"
compseg="${COMPSEG:-$root/.build/release/compseg}"
python="${PYTHON:-/root/.venv-torch/bin/python}"
[ -x "$python" ] || python=python3
chromium="${CHROMIUM:-chromium}"
threads="${THREADS:-2}"
mkdir -p "$out/shots"

step() { echo "== $*"; }
step "demo (40 infrared spots of 48×48, 30 epochs)"
nice -n 19 "$compseg" demo --out "$out/demo" --spots 40 --size 48 --width 8 --epochs 30 --threads "$threads" --force | tail -2
step "phantom, train, evaluate"
rm -rf "$out/data" "$out/run" "$out/cmp"
nice -n 19 "$compseg" phantom --spots 30 --size 32 --bands 60 --seed 2 --out "$out/data" | tail -1
nice -n 19 "$compseg" train --modality infrared --data "$out/data/manifest.csv" --out "$out/run" --epochs 20 --width 8 --depth 2 \
  --threads "$threads" | tail -1
nice -n 19 "$compseg" evaluate --model "$out/run" --data "$out/data/manifest.csv" --out "$out/eval" --split all --threshold auto \
  --force --threads "$threads" | tail -1
step "compare unet and segnet"
nice -n 19 "$compseg" compare --data "$out/data/manifest.csv" --modality infrared --topologies unet,segnet --out "$out/cmp" \
  --epochs 20 --width 8 --depth 2 --threads "$threads" | tail -4

shoot() {  # shoot NAME FILE WIDTH HEIGHT
  "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="$3,$4" --screenshot="$out/shots/$1.png" "file://$2" >/dev/null 2>&1
}
step "screenshots (headless Chromium $("$chromium" --version 2>/dev/null | awk '{print $2}'))"
for report in demo eval cmp; do
  shoot "$report" "$out/$report/report.html" 1400 2000
  shoot "$report-narrow" "$out/$report/report.html" 700 2000
  # The page in the browser: which images failed to load (naturalWidth 0), after the load event.
  probe="$out/shots/$report-probe.html"
  sed 's#</body></html>#<script>window.addEventListener("load", function () { var bad = [].filter.call(document.images, function (i) { return !i.complete || i.naturalWidth === 0; }).map(function (i) { return i.alt; }); document.body.setAttribute("data-images", document.images.length); document.body.setAttribute("data-broken", JSON.stringify(bad)); document.body.setAttribute("data-overflow", document.documentElement.scrollWidth - window.innerWidth); });</script></body></html>#' \
    "$out/$report/report.html" > "$probe"
  "$chromium" --headless --no-sandbox --disable-gpu --window-size=700,2000 --virtual-time-budget=10000 --dump-dom "file://$probe" \
    2>/dev/null > "$out/shots/$report-dom.html"
done
shoot roc-demo "$out/demo/roc.svg" 480 480
shoot roc-cmp "$out/cmp/roc.svg" 480 480
step "checks"
"$python" "$root/tools/check_reports.py" "$out"
