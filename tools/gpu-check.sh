#!/usr/bin/env bash
# Every check the GPU machine can run, in one call (its device time is short): made here by
# tools/gpu-bundle.sh, carried there as gpu/, run there from the repository root:
#
#   run(command: "bash tools/gpu-check.sh", carry: ["gpu"], timeout_s: 540)             (correctness)
#   run(command: "GPU_CHECK_SECONDS=430 bash tools/gpu-check.sh bench", carry: ["gpu"], timeout_s: 450)  (speed)
#   run(command: "GPU_CHECK_SECONDS=450 bash tools/gpu-check.sh version agree demo bench heuristic",
#       carry: ["gpu"], timeout_s: 500)                                          (all, in one call)
#
# Steps (by default version, agree and demo: at most 520 s by their timeouts; bench at most 540 s;
# a step's figures are usually a fraction of its timeout):
#   version  `compseg --version`: does compseg find the GPU and NVIDIA's libraries by itself
#            (COMPSEG_CUDA_LIBRARY_PATH unset), their versions, the self-test;
#   agree    `compseg check-backend --device cuda`: every op, the optimizers and two U-Net training
#            steps against the CPU backend (fp32: 1e-4 relative to each tensor's scale; then what
#            passes through convolutions at tf32: 5e-3, and at bf16: 3e-2), launches synchronous
#            (a fault names its kernel); then fp32 again with launches asynchronous;
#   demo     3 epochs of the demo on the CPU and on the GPU: the loss curves side by side
#            (tools/compare_histories.py, 1e-3 relative);
#   bench    the paper's network (450, 256², width 64) at batch 7: PyTorch and compseg --device cuda
#            side by side, at fp32, tf32 and bf16 (PyTorch's bf16 also channels-last, its fastest);
#            compseg's line adds a profiled step (--profile): where the GPU's time went, by kernel
#            and cuDNN call, and how long it waited for the host; cuDNN's algorithms are timed in
#            the warm-up steps (as PyTorch's cudnn.benchmark, which the reference uses) and kept in
#            the archive's cudnn-algorithms.json; then compseg's bench once more at fp32, taking
#            them from that file untimed;
#   heuristic  compseg's bench again with COMPSEG_CUDNN_ALGORITHMS=heuristic (cuDNN's heuristics,
#            untimed): at most 225 s.
# Without a GPU, COMPSEG_CUDA_LIBRARY_PATH set to the emulator's libraries (tools/cuda-emulator.sh)
# rehearses agree, demo and bench on the emulated GPU (the version step then fails, as it should).
# Figures go to stdout and, after each step, into one archive $OUT/gpu-check.tgz (the device tool
# brings back at most 8 files from $OUT; a run killed at its limit still leaves the steps it
# finished there). GPU_CHECK_SECONDS (default 3600) caps the whole run: each command's timeout is cut
# to what is left, and a command is skipped when under 10 s are left. A failed step does not stop
# the others; the exit status says whether any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
archive_to=${OUT:-/tmp}
out=$(mktemp -d)
deadline=${GPU_CHECK_SECONDS:-3600}
# within SECONDS COMMAND…: COMMAND with a timeout of SECONDS or what is left of the run, if less.
within() {
    local left=$((deadline - SECONDS)) limit=$1; shift
    (( left < 10 )) && { echo "gpu-check: no time left for: $*" >&2; return 124; }
    (( left < limit )) && limit=$left
    timeout "$limit" "$@"
}
snapshot() { tar -czf "$archive_to/gpu-check.tgz.tmp" -C "$out" . && mv "$archive_to/gpu-check.tgz.tmp" "$archive_to/gpu-check.tgz"; }
steps=${*:-version agree demo}
[ -f gpu/compseg-bundle.tar.xz ] || { echo "gpu-check: gpu/compseg-bundle.tar.xz missing: run tools/gpu-bundle.sh and carry gpu/" >&2; exit 1; }
# A bundle built from other sources than these would check code that is not the tree's.
digest=$(find Sources Plugins modalities Package.swift -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
[ "$digest" = "$(cat gpu/sources.sha256 2>/dev/null)" ] \
    || { echo "gpu-check: gpu/ was built from other sources than this tree's: run tools/gpu-bundle.sh again" >&2; exit 1; }
work=$(mktemp -d)
# Without an xz program, Python's tarfile unpacks it.
tar -C "$work" -xJf gpu/compseg-bundle.tar.xz 2>/dev/null \
    || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' gpu/compseg-bundle.tar.xz "$work" \
    || { echo "gpu-check: cannot unpack gpu/compseg-bundle.tar.xz" >&2; exit 1; }
compseg=$work/compseg-bundle/run
failed=()
has() { [[ " $steps " == *" $1 "* ]]; }

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)" || true
# NVIDIA's wheels (what compseg's search should find); the later steps name them outright, so
# that they run even where the search misses them (the version step says whether it did).
wheels=$(python3 -c 'import glob, nvidia; print(":".join(d for p in nvidia.__path__ for d in sorted(glob.glob(p + "/*/lib"))))' 2>/dev/null)
echo "nvidia wheels: ${wheels:-none found}"
trap snapshot EXIT
# cuDNN's timed choices, kept for the later steps and brought back in the archive.
export COMPSEG_CUDNN_CACHE=$out/cudnn-algorithms.json

if has version; then
    echo "== compseg --version"
    within 60 env -u COMPSEG_CUDA_LIBRARY_PATH "$compseg" --version | tee "$out/version.txt" || failed+=("version")
    grep -q "^cuda: not available" "$out/version.txt" && failed+=("version: CUDA not found by compseg's own search")
fi
snapshot
export COMPSEG_CUDA_LIBRARY_PATH=${COMPSEG_CUDA_LIBRARY_PATH:-$wheels}

if has agree; then
    # Launches synchronous, so that a kernel's fault names that kernel; cuDNN's warnings and errors
    # on stderr, so that a refused call says why.
    echo "== compseg check-backend --device cuda"
    for precision in fp32 tf32 bf16; do
        CUDA_LAUNCH_BLOCKING=1 CUDNN_LOGLEVEL_DBG=2 CUDNN_LOGDEST_DBG=stderr \
            within 60 "$compseg" check-backend --device cuda --precision $precision 2>&1 | tee "$out/agree-$precision.txt" \
            || failed+=("agree $precision")
        # A backend whose cuDNN did not start, or had no algorithm for a convolution, passes by
        # running convolutions on the CPU: what it passed did not check them on the GPU.
        grep -q "convolutions on the CPU" "$out/agree-$precision.txt" && failed+=("agree $precision: cuDNN not used")
        grep -q "cuDNN had no usable algorithm" "$out/agree-$precision.txt" && failed+=("agree $precision: convolutions on the CPU")
    done
    # Once more as it runs in use, launches asynchronous: a host access that does not wait for the
    # GPU shows here (the emulated GPU defers launched work too, but runs no two things at once).
    echo "== compseg check-backend --device cuda, launches asynchronous"
    within 60 "$compseg" check-backend --device cuda 2>&1 | tee "$out/agree-async.txt" || failed+=("agree fp32 asynchronous")
    grep -q "cuDNN had no usable algorithm\|convolutions on the CPU" "$out/agree-async.txt" \
        && failed+=("agree fp32 asynchronous: convolutions on the CPU")
fi
snapshot

if has demo; then
    echo "== demo, 3 epochs, CPU then GPU"
    for device in cpu cuda; do
        within 110 "$compseg" demo --device "$device" --epochs 3 --spots 40 --size 48 --out "$work/demo-$device" \
            | tee "$out/demo-$device.txt" || failed+=("demo $device")
        cp "$work/demo-$device/run/history.csv" "$out/history-$device.csv" 2>/dev/null || true
    done
    python3 tools/compare_histories.py "$out/history-cpu.csv" "$out/history-cuda.csv" --tolerance 1e-3 \
        | tee "$out/demo-curves.txt" || failed+=("demo curves")
fi
snapshot

paper="--channels 450 --size 256 --width 64 --batch 7"
if has bench; then
    echo "== the paper's network at batch 7: PyTorch and compseg --device cuda, at fp32, tf32 and bf16"
    for precision in fp32 tf32 bf16; do
        variants=("")
        [ $precision = bf16 ] && variants=("" "--channels-last")
        for variant in "${variants[@]}"; do
            within 60 python3 gpu/torch_compsegnet.py --device cuda --dtype $precision $variant $paper --steps 20 \
                | tee -a "$out/torch-gpu.jsonl" || failed+=("PyTorch $precision $variant")
        done
        within 75 "$compseg" bench --device cuda --precision $precision $paper --steps 10 --profile \
            | tee -a "$out/compseg-gpu.jsonl" || failed+=("compseg bench $precision")
        snapshot
    done
    echo "== compseg --device cuda at fp32 again, its algorithms taken from the cache, untimed"
    within 75 "$compseg" bench --device cuda --precision fp32 $paper --steps 10 \
        | tee -a "$out/compseg-gpu-kept.jsonl" || failed+=("compseg bench fp32 kept")
fi
snapshot
if has heuristic; then
    echo "== compseg --device cuda with cuDNN's heuristic algorithms, at fp32, tf32 and bf16"
    for precision in fp32 tf32 bf16; do
        COMPSEG_CUDNN_ALGORITHMS=heuristic within 75 "$compseg" bench --device cuda --precision $precision $paper --steps 10 --profile \
            | tee -a "$out/compseg-gpu-heuristic.jsonl" || failed+=("compseg bench heuristic $precision")
    done
fi
snapshot
[ ${#failed[@]} -eq 0 ] || { echo "gpu-check: failed: ${failed[*]}" >&2; exit 1; }
