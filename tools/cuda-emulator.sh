#!/usr/bin/env bash
# Builds the emulated GPU's libraries (Tests/Fixtures/cuda-emulator: NVIDIA's driver, NVRTC, cuDNN
# and cuBLAS as a CPU stand-in, with compseg's kernels compiled in) into FOLDER and keeps them, so
# that compseg runs --device cuda without a GPU:
#
#   tools/cuda-emulator.sh /tmp/emulated-cuda
#   COMPSEG_CUDA_LIBRARY_PATH=/tmp/emulated-cuda compseg demo --device cuda --epochs 3
#   COMPSEG_CUDA_LIBRARY_PATH=/tmp/emulated-cuda bash tools/gpu-check.sh agree demo
#
# It checks compseg's side of the CUDA backend, not NVIDIA's kernels or speed (the emulated cuDNN
# convolves in plain loops: keep networks small). Runs the test that builds them (a release build
# with tests, as the README's test command makes).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: tools/cuda-emulator.sh FOLDER" >&2; exit 2; }
cd "$(dirname "$0")/.."
folder=$(mkdir -p "$1" && cd "$1" && pwd)
swift build -c release -Xswiftc -enable-testing --build-tests >&2
COMPSEG_CUDA_EMULATOR_OUT=$folder swift test -c release -Xswiftc -enable-testing --skip-build \
    --filter 'DeviceTests/tf32AndBF16NeedCuDNN' >&2
[ -f "$folder/libcuda.so.1" ] || { echo "cuda-emulator: not built (is a C++ compiler on PATH?)" >&2; exit 1; }
echo "$folder"
