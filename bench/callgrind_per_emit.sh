#!/bin/sh
# Instructions per call of each subject, counted by callgrind.
#
#   bench/callgrind_per_emit.sh [path/to/ringtail_bench]   (default build-bench/bench/ringtail_bench)
#
# Each subject runs as `ringtail_bench --callgrind-emits=N --callgrind-subject=S`
# (init with a 4 MiB ring, no drain thread, N calls in the out-of-line loop
# rtb_loop_S). --toggle-collect=rtb_loop_S counts only that loop, so the
# cold first use (ring claim, site registration) is outside the count. Two
# sizes are run and their difference divided by the difference in calls, which
# cancels the loop's entry and exit; the figure still includes the loop's own
# ~4-5 instructions per iteration (counter, double increment, compare, branch).
set -eu
BENCH=${1:-build-bench/bench/ringtail_bench}
N1=8000
N2=16000  # the raw ring holds 16384 events, ringtail's 4 MiB ring 65535: no drop
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
printf '%-10s %12s %12s %10s\n' subject "Ir(N=$N1)" "Ir(N=$N2)" Ir/call
# "flight" runs ringtail's loop on flight-recorder rings (RINGTAIL_MODE=flight;
# 4 MiB: 8 chunks of 512 KiB); "context" runs it inside a ScopedContext and a
# Span; "span" begins and ends one span per iteration. RING_BYTES=N gives the
# flight subject --ring-bytes=N (e.g. 65536: chunks of 8 KiB, a chunk start
# every ~130 events; the normal subjects need their 4 MiB to drop nothing).
for subject in ringtail flight context span disabled raw empty; do
  loop=$subject
  [ "$subject" = context ] && loop=ringtail
  ring=""
  [ "$subject" = flight ] && loop=ringtail && ring=${RING_BYTES:+--ring-bytes=$RING_BYTES}
  for n in $N1 $N2; do
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$subject.$n" --toggle-collect="rtb_loop_$loop" \
      "$BENCH" --callgrind-emits="$n" --callgrind-subject="$subject" $ring >"$OUT/log.$subject.$n" 2>&1 ||
      { cat "$OUT/log.$subject.$n" >&2; exit 1; }
  done
  ir1=$(sed -n 's/^summary: //p' "$OUT/cg.$subject.$N1")
  ir2=$(sed -n 's/^summary: //p' "$OUT/cg.$subject.$N2")
  printf '%-10s %12s %12s %10s\n' "$subject" "$ir1" "$ir2" "$(awk -v a="$ir1" -v b="$ir2" -v n1=$N1 -v n2=$N2 'BEGIN { printf "%.2f", (b - a) / (n2 - n1) }')"
done
