#!/usr/bin/env bash
# Installs what is missing, builds ringtail (Release, in build/) and runs the
# demo: the simulated agent logs to its segment in /dev/shm, then the
# `ringtail` reader drains that segment into JSONL. Without the reader CLI it
# runs the hot-path benchmark (RINGTAIL_INFO into a ring) instead.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build=build
jobs="$(nproc 2>/dev/null || echo 2)"

bash scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "$jobs"

agent="$build/examples/agent_sim"
reader="$build/tools/ringtail"
bench="$build/bench/ringtail_bench"

if [ -x "$agent" ] && [ -x "$reader" ]; then
  out="$build/demo-out"
  rm -rf "$out"
  echo "demo: $agent"
  "$agent" &
  pid=$!
  wait "$pid"
  echo "demo: $reader drain --once --pid $pid -o $out"
  "$reader" drain --once --pid "$pid" -o "$out"
  mapfile -t files < <(find "$out" -type f -name '*.jsonl' | sort)
  if [ ${#files[@]} -eq 0 ]; then
    echo "demo: the drain wrote no JSONL file under $out" >&2
    exit 1
  fi
  for f in "${files[@]}"; do
    echo "demo: $f: $(wc -l <"$f") lines; the first 5:"
    head -n 5 "$f"
  done
elif [ -x "$bench" ]; then
  echo "demo: $bench --benchmark_filter=BM_Emit"
  "$bench" --benchmark_filter=BM_Emit
else
  echo "demo: nothing to run: neither $agent + $reader nor $bench was built" >&2
  exit 1
fi
