#!/usr/bin/env bash
# Installs what is missing, builds ringtail and runs the whole test suite.
#
#   bash scripts/test.sh [build-dir] [extra cmake args...]
#
# build-dir defaults to build/ (relative to the repository root); extra
# arguments go to the configure step, e.g.
#   bash scripts/test.sh build-asan -DRINGTAIL_SANITIZE=address -DRINGTAIL_BUILD_BENCH=OFF
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build="${1:-build}"
if [ $# -gt 0 ]; then shift; fi
jobs="$(nproc 2>/dev/null || echo 2)"

bash scripts/install-deps.sh
# The OpenTelemetry protocol definitions, when they sit beside the project:
# the OTLP sink's test decodes requests with them (it says why it skips
# without them; .ci/run always sets this).
if [ -z "${RINGTAIL_OTEL_PROTO_DIR:-}" ] && [ -d "$root/../shared/otel-proto" ]; then
  export RINGTAIL_OTEL_PROTO_DIR="$(cd "$root/../shared/otel-proto" && pwd)"
fi
# RINGTAIL_BUILD_PYTHON=ON: a missing pybind11 fails here instead of
# leaving the Python suite out.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGTAIL_BUILD_PYTHON=ON "$@"
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure -j2
