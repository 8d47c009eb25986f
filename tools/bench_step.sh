#!/usr/bin/env bash
# The training step beside PyTorch (issue 24's three configurations), interleaved: each round runs
# ../shared/bench/torch_compsegnet.py and `compseg bench` on one configuration after the other,
# and prints one line per configuration with both step times, their ratio and peak memory; then,
# per configuration, each side's fastest step over the rounds and their ratio (PyTorch's own time
# varies more than compseg's on shared machines: page faults, memory bandwidth).
#
#   tools/bench_step.sh [ROUNDS]      (default 3)
#
# Environment: COMPSEG (.build/release/compseg), PY (python with torch; default: setup-torch.sh's),
# STEPS (timed steps per run, 5).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3} STEPS=${STEPS:-5}
COMPSEG=${COMPSEG:-.build/release/compseg}
PY=${PY:-$(bash ../shared/bench/setup-torch.sh)}
field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
declare -A best_torch best_ours
for round in $(seq "$ROUNDS"); do
    for config in "450 256 64 1" "450 64 16 7" "32 128 16 7"; do
        set -- $config
        args=(--channels "$1" --size "$2" --width "$3" --batch "$4" --steps "$STEPS")
        torch=$("$PY" ../shared/bench/torch_compsegnet.py "${args[@]}")
        ours=$("$COMPSEG" bench "${args[@]}")
        t=$(field step_s <<< "$torch") o=$(field step_s <<< "$ours") m=$(field peak_mib <<< "$ours")
        python3 -c "print(f'round $round  ($1, $2², width $3, batch $4)  torch {$t:.3f} s  compseg {$o:.3f} s  ratio {$t/$o:.2f}x  compseg peak $m MiB')"
        best_torch[$config]=$(python3 -c "print(min($t, ${best_torch[$config]:-$t}))")
        best_ours[$config]=$(python3 -c "print(min($o, ${best_ours[$config]:-$o}))")
    done
done
for config in "450 256 64 1" "450 64 16 7" "32 128 16 7"; do
    set -- $config
    t=${best_torch[$config]} o=${best_ours[$config]}
    python3 -c "print(f'fastest  ($1, $2², width $3, batch $4)  torch {$t:.3f} s  compseg {$o:.3f} s  ratio {$t/$o:.2f}x')"
done
