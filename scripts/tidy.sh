#!/usr/bin/env bash
# clang-tidy with the repository's .clang-tidy over every source file of the
# product (shm/, core/, reader/, tools/, python/), using a configured build's
# compilation database. Any finding fails the run.
#
#   bash scripts/tidy.sh [build-dir]        # build-dir defaults to build/
#
# Tests, benchmarks and examples are left out: they double the time (gtest
# and benchmark headers) and ship to nobody. A finding that is wrong is
# silenced where it stands with NOLINT(<check>) and a reason, never here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${1:-build}"
jobs="$(nproc 2>/dev/null || echo 2)"

if [ ! -f "$build/compile_commands.json" ]; then
  echo "tidy: $build/compile_commands.json is missing: configure the build first (bash scripts/test.sh does)" >&2
  exit 1
fi
runner="$(command -v run-clang-tidy || command -v run-clang-tidy-14 || true)"
if [ -z "$runner" ]; then
  echo "tidy: run-clang-tidy is missing (bash scripts/install-deps.sh installs clang-tidy)" >&2
  exit 1
fi

count="$(grep -cE "\"file\": \"${root}/(shm|core|reader|tools|python)/" "$build/compile_commands.json" || true)"
echo "tidy: ${count} files with ${jobs} jobs"
# run-clang-tidy 14 has no -warnings-as-errors: a finding is any "warning:"
# or "error:" line in its log, and its own failure counts too.
status=0
"$runner" -p "$build" -j "$jobs" -quiet "^${root}/(shm|core|reader|tools|python)/" >"$build/tidy.log" 2>&1 || status=$?
findings="$(sed 's/\x1b\[[0-9;]*m//g' "$build/tidy.log" | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' | sort -u || true)"
if [ -n "$findings" ]; then
  echo "$findings" >&2
  echo "tidy: $(echo "$findings" | wc -l) findings (full log: $build/tidy.log)" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  tail -20 "$build/tidy.log" >&2
  echo "tidy: run-clang-tidy failed (exit $status; full log: $build/tidy.log)" >&2
  exit 1
fi
echo "tidy: clean"
