#!/usr/bin/env bash
# Installs what is missing, builds ringtail (Release, in build/) and runs the
# demo: the simulated agent logs to its segment in /dev/shm while the
# `ringtail` reader, another process, drains it live into JSONL. Without the
# reader CLI it runs the hot-path benchmark (RINGTAIL_INFO into a ring) instead.
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
  # The agent runs about two seconds (4 workers x 2000 steps of 0.2-2 ms);
  # the reader follows it live from another process, and once the agent has
  # exited and its segment is drained and removed, SIGTERM makes the reader
  # flush and exit 0.
  echo "demo: $agent --steps 2000 --service demo_agent &"
  "$agent" --steps 2000 --service demo_agent &
  agent_pid=$!
  echo "demo: $reader drain --follow --pid $agent_pid --out $out &"
  "$reader" drain --follow --pid "$agent_pid" --out "$out" &
  reader_pid=$!
  trap 'kill "$agent_pid" "$reader_pid" 2>/dev/null || true' EXIT
  wait "$agent_pid"
  for _ in $(seq 100); do
    if ! compgen -G "/dev/shm/ringtail.${agent_pid}.*" >/dev/null; then break; fi
    sleep 0.1
  done
  kill -TERM "$reader_pid"
  wait "$reader_pid"
  trap - EXIT
  # One file per level class, compressed with zstd once closed (docs/STORAGE.md).
  mapfile -t files < <(find "$out" -type f \( -name '*.jsonl.zst' -o -name '*.jsonl' \) | sort)
  if [ ${#files[@]} -eq 0 ]; then
    echo "demo: the drain wrote no JSONL file under $out" >&2
    exit 1
  fi
  for f in "${files[@]}"; do
    echo
    echo "demo: $f: $(zstd -qdcf "$f" | wc -l) lines; events by message:"
    zstd -qdcf "$f" | grep -o '"message":"[^"]*"' | sort | uniq -c | sort -rn || true
  done
  first="${files[0]}"
  for f in "${files[@]}"; do
    if [[ "$f" == *-info-* ]]; then
      first="$f"
      break
    fi
  done
  echo
  echo "demo: the first 5 lines of $first:"
  # head closes the pipe early: zstd's SIGPIPE is expected, not a failure.
  zstd -qdcf "$first" | head -n 5 || true
  # Questions over what was stored (docs/QUERY.md).
  echo
  echo "demo: $reader stats $out --message step.end --by tool --duration duration_ms"
  "$reader" stats "$out" --message step.end --by tool --duration duration_ms
  echo
  echo "demo: $reader stats $out --message span.end --by span --duration duration_ms"
  "$reader" stats "$out" --message span.end --by span --duration duration_ms
  echo
  echo "demo: $reader report $out --cost --by model"
  "$reader" report "$out" --cost --by model
  echo
  echo "demo: $reader query $out --where allow=false --limit 3"
  "$reader" query "$out" --where allow=false --limit 3
elif [ -x "$bench" ]; then
  echo "demo: $bench --benchmark_filter=BM_Emit"
  "$bench" --benchmark_filter=BM_Emit
else
  echo "demo: nothing to run: neither $agent + $reader nor $bench was built" >&2
  exit 1
fi
