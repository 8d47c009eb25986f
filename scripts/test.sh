#!/usr/bin/env bash
# Installs what the build needs, then builds once and runs the whole test suite in release mode
# (the suite trains small networks; debug builds run numeric loops about 10x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
# In CI, a short fuzzing round (fuzz/run.sh): every target (the manifest, settings and model.json,
# modality manifests, safetensors, the HDF5 layout logic, TIFF, PNG, the raster paths and the
# instrument files) replays its past findings (fuzz/crashes) and is fuzzed 5 s from a fixed seed.
# The targets over the engine and the core first build them instrumented (about 5 minutes on 2 cores).
if [ "${CI:-}" = true ]; then
    FUZZ_FLAGS=-seed=1 bash fuzz/run.sh 5
fi
