#!/usr/bin/env bash
# Runs compseg and the PyTorch reference of ../shared/validity/ side by side over several seeds
# on one phantom, and prints a table: test AUC / Dice at threshold .35 over the cancer spots, and
# seconds per run (compseg: train + evaluate; reference: its whole script), with means.
# A benchmark to run by hand, not a test.
#
# Usage: tools/validity.sh [--seeds "0 1 2"] [--phantom DIR] [--work DIR] [--no-reference]
#                          [--label TEXT] [-- COMPSEG TRAIN OPTIONS…]
#   --seeds      seeds to run (default: 0 … 9)
#   --phantom    phantom folder with manifest.csv (default: WORK/phantom, written by
#                ../shared/validity/phantom_ir.py when missing)
#   --work       where runs and logs go (default: /tmp/compseg-validity)
#   --no-reference   compseg only
#   after --      options for `compseg train` (default: --width 16 --depth 3, the reference's network)
# Example: tools/validity.sh --seeds "0 1 2" -- --width 16 --depth 3 --config my-settings.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
validity="$root/../shared/validity"

seeds="0 1 2 3 4 5 6 7 8 9"
work=/tmp/compseg-validity
phantom=""
reference=1
label="compseg train"
train_args=(--width 16 --depth 3)
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --phantom) phantom="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --no-reference) reference=0; shift ;;
    --label) label="$2"; shift 2 ;;
    --) shift; train_args=("$@"); break ;;
    *) echo "validity.sh: unknown option '$1' (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
[ -n "$phantom" ] || phantom="$work/phantom"
mkdir -p "$work"

py=$(bash "$root/../shared/bench/setup-torch.sh")
if [ ! -f "$phantom/manifest.csv" ]; then
  echo "validity.sh: writing the phantom to $phantom" >&2
  "$py" "$validity/phantom_ir.py" "$phantom" >&2
fi
compseg="$root/.build/release/compseg"
[ -x "$compseg" ] || swift build -c release --product compseg >&2

now() { date +%s.%N; }
results="$work/results.tsv"
: > "$results"
for seed in $seeds; do
  ref="- - -"
  if [ "$reference" = 1 ]; then
    start=$(now)
    line=$("$py" "$validity/reference_train.py" "$phantom" --opt adam --bias-init 0.02 --epochs 40 --seed "$seed" | tail -1)
    seconds=$(python3 -c "print(round($(now) - $start, 1))")
    ref=$(echo "$line" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["auc"], r["dice_mean"], end=" ")'; echo "$seconds")
  fi
  run="$work/run-$seed" eval="$work/eval-$seed"
  rm -rf "$run" "$eval"
  start=$(now)
  "$compseg" train --modality infrared --data "$phantom/manifest.csv" --out "$run" --seed "$seed" "${train_args[@]}" \
    > "$work/train-$seed.log" 2>&1 || { echo "validity.sh: compseg train failed, see $work/train-$seed.log" >&2; exit 1; }
  "$compseg" evaluate --model "$run" --data "$phantom/manifest.csv" --out "$eval" --threshold .35 \
    > "$work/evaluate-$seed.log" 2>&1 || { echo "validity.sh: compseg evaluate failed, see $work/evaluate-$seed.log" >&2; exit 1; }
  seconds=$(python3 -c "print(round($(now) - $start, 1))")
  ours=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["auc"], r["dice_mean"], end=" ")' "$eval/summary.json"; echo "$seconds")
  collapsed=$(grep -c "collapsed" "$work/train-$seed.log" || true)
  echo "$seed $ref $ours $collapsed" >> "$results"
  echo "seed $seed: reference $ref | compseg $ours (collapsed epochs: $collapsed)" >&2
done

python3 - "$results" "$label ${train_args[*]}" "$reference" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
label, with_reference = sys.argv[2], sys.argv[3] == "1"
def num(x): return None if x == "-" else float(x)
def cell(auc, dice): return "–" if auc is None else f"{auc:.2f} / {dice:.2f}"
print(f"| seed | {'reference (AUC / Dice) | s | ' if with_reference else ''}{label} (AUC / Dice) | s | collapsed epochs |")
print("|---|" + ("---|---|" if with_reference else "") + "---|---|---|")
cols = {k: [] for k in ("ra", "rd", "rs", "ca", "cd", "cs")}
for seed, ra, rd, rs, ca, cd, cs, collapsed in rows:
    ra, rd, rs, ca, cd, cs = map(num, (ra, rd, rs, ca, cd, cs))
    for k, v in zip(cols, (ra, rd, rs, ca, cd, cs)):
        if v is not None: cols[k].append(v)
    ref = f"{cell(ra, rd)} | {rs:.1f} | " if with_reference else ""
    print(f"| {seed} | {ref}{cell(ca, cd)} | {cs:.1f} | {collapsed} |")
mean = lambda v: sum(v) / len(v) if v else float("nan")
ref = f"{mean(cols['ra']):.3f} / {mean(cols['rd']):.3f} | {mean(cols['rs']):.1f} | " if with_reference else ""
print(f"| mean | {ref}{mean(cols['ca']):.3f} / {mean(cols['cd']):.3f} | {mean(cols['cs']):.1f} | |")
print(f"\ncompseg: lowest AUC {min(cols['ca']):.3f}, lowest Dice {min(cols['cd']):.3f}, slowest run {max(cols['cs']):.1f} s", end="")
if with_reference:
    faster = sum(1 for c, r in zip(cols['cs'], cols['rs']) if c < r)
    print(f"; faster than the reference in {faster} of {len(cols['cs'])} seeds", end="")
print()
EOF
