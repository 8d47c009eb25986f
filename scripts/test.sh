#!/usr/bin/env bash
# Installs what the build needs, then builds once and runs the whole test suite in release mode
# (the suite trains small networks; debug builds run numeric loops about 10x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release -Xswiftc -enable-testing --build-tests
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
