#!/usr/bin/env bash
# Installs what the build needs, then builds once and runs the whole test suite in release mode
# (the suite trains small networks; debug builds run numeric loops about 10x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
# In CI, a short fuzzing round (fuzz/run.sh): each image and instrument-file parser replays its past
# findings (fuzz/crashes) and is fuzzed 5 s from a fixed seed. The targets over the engine and the
# core (manifest, settings, model.json, safetensors, HDF5 layout) need minutes of instrumented
# builds; their past findings run as regression tests above, and `fuzz/run.sh` runs them in full.
if [ "${CI:-}" = true ]; then
    TARGETS="envi wire agilent textmap tiff png raster" FUZZ_FLAGS=-seed=1 bash fuzz/run.sh 5
fi
