#!/usr/bin/env bash
# Installs what is missing, builds ringtail (Release, in build/) and runs the
# demo: the simulated C++ agent and its Python twin (examples/python_agent,
# when the Python module is built) log to their segments in /dev/shm while the
# `ringtail` reader, another process, drains both live into one store of JSONL,
# and the demo ends by writing the run's HTML report (build/demo-report.html).
# Without the reader CLI it runs the hot-path benchmark (RINGTAIL_INFO into a
# ring) instead.
#
#   bash scripts/demo.sh [--no-build BUILD_DIR]
#
# --no-build runs the demo on what BUILD_DIR already holds: no package is
# installed and neither cmake nor ninja runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build=build
jobs="$(nproc 2>/dev/null || echo 2)"

if [ "${1:-}" = "--no-build" ]; then
  if [ $# -ne 2 ]; then
    echo "usage: bash scripts/demo.sh [--no-build BUILD_DIR]" >&2
    exit 2
  fi
  build="$2"
elif [ $# -ne 0 ]; then
  echo "usage: bash scripts/demo.sh [--no-build BUILD_DIR]" >&2
  exit 2
else
  bash scripts/install-deps.sh
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build" --parallel "$jobs"
fi

agent="$build/examples/agent_sim"
reader="$build/tools/ringtail"
bench="$build/bench/ringtail_bench"

if [ -x "$agent" ] && [ -x "$reader" ]; then
  out="$build/demo-out"
  rm -rf "$out"
  # The agent runs about two seconds (4 workers x 2000 steps of 0.2-2 ms);
  # the Python agent (asyncio runs of the same vocabulary, service
  # python_agent) runs beside it when the module is built. The reader follows
  # both live from another process, and once the agents have exited and their
  # segments are drained and removed, SIGTERM makes the reader flush and exit 0.
  echo "demo: $agent --steps 2000 --service demo_agent &"
  "$agent" --steps 2000 --service demo_agent &
  agent_pid=$!
  pids=("$agent_pid")
  python=/usr/bin/python3
  if [ -x "$python" ] && compgen -G "$build/python/ringtail/_ringtail*.so" >/dev/null; then
    echo "demo: PYTHONPATH=$build/python $python examples/python_agent/agent.py --runs 8 &"
    PYTHONPATH="$build/python" "$python" examples/python_agent/agent.py --runs 8 &
    pids+=("$!")
  else
    echo "demo: no Python module under $build/python: the C++ agent runs alone"
  fi
  pid_args=()
  for pid in "${pids[@]}"; do pid_args+=(--pid "$pid"); done
  echo "demo: $reader drain --follow ${pid_args[*]} --out $out &"
  "$reader" drain --follow "${pid_args[@]}" --out "$out" &
  reader_pid=$!
  trap 'kill "${pids[@]}" "$reader_pid" 2>/dev/null || true' EXIT
  for pid in "${pids[@]}"; do
    if ! wait "$pid"; then
      echo "demo: the agent of pid $pid failed" >&2
      exit 1
    fi
  done
  for _ in $(seq 100); do
    pending=0
    for pid in "${pids[@]}"; do
      if compgen -G "/dev/shm/ringtail.${pid}.*" >/dev/null; then pending=1; fi
    done
    if [ "$pending" -eq 0 ]; then break; fi
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
    # The line's own message follows its level (an error object has a message too).
    zstd -qdcf "$f" | grep -o '"level":"[A-Z]*","message":"[^"]*"' | sed 's/^"level":"[A-Z]*",//' | sort |
      uniq -c | sort -rn || true
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
  echo "demo: $reader report $out --cost --by service,model"
  "$reader" report "$out" --cost --by service,model
  echo
  echo "demo: $reader query $out --where allow=false --limit 3"
  "$reader" query "$out" --where allow=false --limit 3
  if [ ${#pids[@]} -gt 1 ]; then
    echo
    echo "demo: $reader query $out --service python_agent --level ERROR --limit 2"
    "$reader" query "$out" --service python_agent --level ERROR --limit 2
  fi
  # Last, the run as people look at it: one HTML file, offline (docs/QUERY.md, "HTML report").
  report="$build/demo-report.html"
  echo
  echo "demo: $reader report $out --html -o $report"
  "$reader" report "$out" --html -o "$report" >/dev/null
  echo "demo: the run report is $(cd "$(dirname "$report")" && pwd)/$(basename "$report"): open it in a browser"
elif [ -x "$bench" ]; then
  echo "demo: $bench --benchmark_filter=BM_Emit"
  "$bench" --benchmark_filter=BM_Emit
else
  echo "demo: nothing to run: neither $agent + $reader nor $bench was built" >&2
  exit 1
fi
