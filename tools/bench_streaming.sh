#!/usr/bin/env bash
# Peak memory and time of `compseg segment` on a large H&E slide (issue 20: a 20,000 × 20,000
# tiled TIFF must segment in under 2 GiB). Writes the slide with tools/make_large_he.py (tifffile,
# tile by tile), trains a small H&E network on the phantom, segments the slide (it is streamed
# region by region) and prints GNU time's peak RSS and wall time. COMMAND=overlay measures
# `compseg overlay` instead (the figures too: the slide is read a second time for them);
# COMMAND=evaluate measures `compseg evaluate` on a manifest of the slide (cancer, with its true
# tumor mask at full resolution) and two phantom spots.
#   [COMMAND=overlay|evaluate] tools/bench_streaming.sh [SIDE=20000] [WORK=/tmp/compseg-stream-bench] [OPTION…]
set -euo pipefail
cd "$(dirname "$0")/.."
SIDE=${1:-20000}
WORK=${2:-/tmp/compseg-stream-bench}
PY=$(bash ../shared/bench/setup-torch.sh)
B=.build/release/compseg
[ -x $B ] || swift build -c release
mkdir -p "$WORK"
[ -f "$WORK/slide$SIDE.tif" ] && [ -f "$WORK/truth$SIDE.png" ] \
    || "$PY" tools/make_large_he.py "$WORK/slide$SIDE.tif" "$SIDE" "$WORK/truth$SIDE.png"
if [ ! -f "$WORK/run/model.json" ]; then
    rm -rf "$WORK/data" "$WORK/run"
    $B phantom --modality he --spots 12 --out "$WORK/data" > /dev/null
    $B train --modality he --data "$WORK/data/manifest.csv" --out "$WORK/run" --epochs 2 --width 8 --depth 3 > /dev/null
fi
rm -rf "$WORK/seg"
if [ "${COMMAND:-segment}" = evaluate ]; then
    printf 'path,label,split,truth\n%s,1,test,%s\n%s,0,test,\n%s,1,test,%s\n' "$WORK/slide$SIDE.tif" "$WORK/truth$SIDE.png" \
        "$WORK/data/spot001.png" "$WORK/data/spot000.tif" "$WORK/data/spot000_truth.png" > "$WORK/evaluate.csv"
    INPUT=(--data "$WORK/evaluate.csv")
else
    INPUT=("$WORK/slide$SIDE.tif")
fi
/usr/bin/time -f "peak RSS %M KiB, wall %e s, user %U s" $B "${COMMAND:-segment}" --model "$WORK/run" --out "$WORK/seg" "${INPUT[@]}" "${@:3}"
ls -l "$WORK/seg"
