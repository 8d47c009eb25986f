#!/usr/bin/env bash
# Every check the GPU machine can run today, in one call (its device time is short): made here by
# tools/gpu-bundle.sh, carried there as gpu/, run there from the repository root:
#
#   run(command: "bash tools/gpu-check.sh", carry: ["gpu"], timeout_s: 480)
#
# 1. `compseg --version`: whether compseg finds the GPU and NVIDIA's libraries by itself
#    (COMPSEG_CUDA_LIBRARY_PATH unset), and their versions;
# 2. PyTorch's training step of the paper's network at batch 7 on that GPU at fp32, tf32, bf16 and
#    bf16 channels-last
#    (the throughput a CUDA backend must match, issue 22);
# 3. compseg's CPU step on that machine's cores, for scale.
# Figures go to stdout and to $OUT (the device tool brings $OUT back), one JSON line per run.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
[ -f gpu/compseg-bundle.tar.xz ] || { echo "gpu-check: gpu/compseg-bundle.tar.xz missing: run tools/gpu-bundle.sh and carry gpu/" >&2; exit 1; }
work=$(mktemp -d)
tar -C "$work" -xJf gpu/compseg-bundle.tar.xz || { echo "gpu-check: cannot unpack gpu/compseg-bundle.tar.xz" >&2; exit 1; }
compseg=$work/compseg-bundle/run

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)" || true
# Where the pip wheels put NVIDIA's libraries (what compseg's search should have found).
python3 -c "import nvidia; print('nvidia wheels:', *nvidia.__path__)" || true
ls -d "$(python3 -c 'import nvidia; print(nvidia.__path__[0])' 2>/dev/null)"/*/lib 2>/dev/null || true

echo "== compseg --version"
# Every step runs whatever the others gave; the exit status says whether any failed.
failed=()
env -u COMPSEG_CUDA_LIBRARY_PATH "$compseg" --version | tee "$out/version.txt" || failed+=("compseg --version")

echo "== PyTorch, paper's network (450, 256², width 64), batch 7"
for variant in "fp32" "tf32" "bf16" "bf16 --channels-last"; do
    set -- $variant
    timeout 75 python3 gpu/torch_compsegnet.py --device cuda --dtype "$@" \
        --channels 450 --size 256 --width 64 --batch 7 --steps 20 | tee -a "$out/torch-gpu.jsonl" \
        || failed+=("PyTorch $variant")
done

echo "== compseg on this machine's CPU, (32, 128², width 16), batch 7"
timeout 60 "$compseg" bench --channels 32 --size 128 --width 16 --batch 7 --steps 5 | tee "$out/compseg-cpu.jsonl" \
    || failed+=("compseg bench")
[ ${#failed[@]} -eq 0 ] || { echo "gpu-check: failed: ${failed[*]}" >&2; exit 1; }
