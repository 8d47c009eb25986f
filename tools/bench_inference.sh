#!/usr/bin/env bash
# Inference speed beside PyTorch, in one run (issue 24): `compseg segment` of SPOTS phantom spots of
# SIZE×SIZE×450 with the paper's network (U-Net, width 64, depth 4, 450 input channels) — wall time
# per spot from its "Time:" line (reading included, process start excluded) — then PyTorch's
# forward pass alone on the same network (tools/bench_inference_torch.py, torch.no_grad) and
# `compseg bench --inference` (the network alone), ROUNDS times interleaved.
#
#   tools/bench_inference.sh [WORK]      WORK: a scratch folder (default /tmp/compseg-bench-inference)
#
# Environment: SPOTS (20), SIZE (256), ROUNDS (2), BATCH (segment --batch; default: segment's own), THREADS (all cores),
# COMPSEG (.build/release/compseg), PY (python with torch; default: ../shared/bench/setup-torch.sh's).
# The spots (2.4 GB at 256²) and the run are made once and kept in WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/compseg-bench-inference}
SPOTS=${SPOTS:-20} SIZE=${SIZE:-256} ROUNDS=${ROUNDS:-2}
batch=(); [ -n "${BATCH:-}" ] && batch=(--batch "$BATCH")
COMPSEG=${COMPSEG:-.build/release/compseg}
PY=${PY:-$(bash ../shared/bench/setup-torch.sh)}
THREADS=${THREADS:-$(nproc)}
mkdir -p "$W"
if [ ! -f "$W/spots/manifest.csv" ]; then
    "$COMPSEG" phantom --spots "$SPOTS" --size "$SIZE" --out "$W/spots"
fi
# A run of the paper's network, without PCA (450 channels): one epoch on four spots. The weights'
# values do not change the time.
if [ ! -f "$W/run/weights.safetensors" ]; then
    m=$W/spots/manifest.csv
    { head -1 "$m"; for s in 1,train 0,train 1,val 0,val; do grep -m1 ",$s" "$m"; done; } > "$W/spots/four.csv"
    rm -rf "$W/run"
    "$COMPSEG" train --modality ftir --data "$W/spots/four.csv" --out "$W/run" --width 64 --depth 4 --epochs 1 --batch 2 \
        --threads "$THREADS" > "$W/train.log"
fi
for round in $(seq "$ROUNDS"); do
    echo "== round $round"
    rm -rf "$W/segmented"
    /usr/bin/time -f "segment: %e s wall including start, peak %M KiB" \
        "$COMPSEG" segment --model "$W/run" --data "$W/spots/manifest.csv" --out "$W/segmented" "${batch[@]}" \
        --threads "$THREADS" 2>&1 | grep -E "^Time:|^segment:"
    "$PY" tools/bench_inference_torch.py --channels 450 --size "$SIZE" --width 64 --depth 4 --batch 1 --steps 5 --threads "$THREADS"
    "$COMPSEG" bench --inference --channels 450 --size "$SIZE" --width 64 --depth 4 --batch 1 --steps 5 --threads "$THREADS"
done
