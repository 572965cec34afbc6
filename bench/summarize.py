#!/usr/bin/env python3
"""Ratios and spec targets from ringtail_bench output.

  ringtail_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
      --benchmark_out=bench.json --benchmark_out_format=json
  ringtail_bench --latency --json > latency.json
  bench/summarize.py bench.json [latency.json]

Uses the median aggregate of each benchmark when there is one (else the mean
of its runs) and prints a Markdown table: absolute times, the ratio to
BM_RawRing_64B of the same run, drop rates, then the spec's targets.
"""
import json
import statistics
import sys


def load_benchmarks(path):
    with open(path) as f:
        doc = json.load(f)
    runs, medians = {}, {}
    for b in doc["benchmarks"]:
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = b
        else:
            runs.setdefault(name, []).append(b)
    out = {}
    for name in set(runs) | set(medians):
        if name in medians:
            out[name] = medians[name]
        else:
            rs = runs[name]
            merged = dict(rs[0])
            for key in ("real_time", "cpu_time", "drop_rate", "per_event"):
                if key in rs[0]:
                    merged[key] = statistics.mean(r[key] for r in rs)
            out[name] = merged
    return doc.get("context", {}), out


def ns(b, key):
    # Benchmarks report in their time_unit; every ringtail_bench benchmark uses ns.
    return b[key]


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    context, bm = load_benchmarks(argv[1])
    raw = bm.get("BM_RawRing_64B")
    print(f"machine: {context.get('num_cpus')} CPUs @ {context.get('mhz_per_cpu')} MHz, "
          f"ring {context.get('ringtail_ring_bytes')} B, {context.get('date')}")
    print()
    print("| benchmark | real ns | CPU ns | real / RawRing | CPU / RawRing | drop rate |")
    print("|---|---:|---:|---:|---:|---:|")
    order = ["BM_Emit_3Fields", "BM_Emit_3Fields/threads:2", "BM_Emit_Disabled", "BM_RawRing_64B",
             "BM_Spdlog_Async_3Fields", "BM_ConcurrentQueue_64B", "BM_Emit_3Fields_NoDrop", "BM_RawRing_64B_NoDrop"]
    for name in order + sorted(set(bm) - set(order)):
        if name not in bm:
            continue
        b = bm[name]
        real, cpu = ns(b, "real_time"), ns(b, "cpu_time")
        if name.endswith("_NoDrop"):
            # Per burst; per_event is CPU seconds per event.
            per_event = b.get("per_event", 0) * 1e9
            other = bm.get("BM_RawRing_64B_NoDrop")
            ratio = per_event / (other["per_event"] * 1e9) if other else float("nan")
            print(f"| {name} (per event) | {real / 8192:.2f} | {per_event:.2f} | | {ratio:.2f} (vs RawRing_NoDrop) | 0 |")
            continue
        rr = f"{real / raw['real_time']:.2f}" if raw else ""
        rc = f"{cpu / raw['cpu_time']:.2f}" if raw else ""
        drop = b.get("drop_rate")
        print(f"| {name} | {real:.2f} | {cpu:.2f} | {rr} | {rc} | {'' if drop is None else f'{drop:.3f}'} |")

    print()
    print("| target | measured | met |")
    print("|---|---|---|")

    def row(target, measured, ok):
        print(f"| {target} | {measured} | {'yes' if ok else 'NO'} |")

    e1, e2 = bm.get("BM_Emit_3Fields"), bm.get("BM_Emit_3Fields/threads:2")
    sp, dis = bm.get("BM_Spdlog_Async_3Fields"), bm.get("BM_Emit_Disabled")
    if e1 and raw:
        for key, label in (("cpu_time", "CPU"), ("real_time", "real")):
            r = e1[key] / raw[key]
            row(f"BM_Emit_3Fields <= 1.3x BM_RawRing_64B ({label})", f"{r:.2f}x", r <= 1.3)
    nd, rnd = bm.get("BM_Emit_3Fields_NoDrop"), bm.get("BM_RawRing_64B_NoDrop")
    if nd and rnd:
        r = nd["per_event"] / rnd["per_event"]
        row("(supplementary) Emit_3Fields_NoDrop <= 1.3x RawRing_64B_NoDrop (CPU)", f"{r:.2f}x", r <= 1.3)
    if e1 and sp:
        for key, label in (("cpu_time", "CPU"), ("real_time", "real")):
            r = sp[key] / e1[key]
            row(f"BM_Spdlog_Async_3Fields >= 10x BM_Emit_3Fields ({label}; goal 20x)", f"{r:.1f}x", r >= 10)
    if dis:
        row("BM_Emit_Disabled <= 1.5 ns (real)", f"{dis['real_time']:.3f} ns", dis["real_time"] <= 1.5)
    if e1 and e2:
        # Google Benchmark divides the summed thread CPU time by the summed
        # iterations: cpu_time of threads:2 is each thread's CPU per event.
        r = e2["cpu_time"] / e1["cpu_time"]
        row("threads:2 within 1.2x of 1 thread per event (CPU per event per thread)", f"{r:.2f}x", r <= 1.2)
        # real_time of threads:2 is wall / (events of both threads): x2 is each thread's wall time per event.
        r = 2 * e2["real_time"] / e1["real_time"]
        row("threads:2 within 1.2x of 1 thread per event (wall per event per thread, 2 producers + drain on 2 CPUs)",
            f"{r:.2f}x", r <= 1.2)
    if len(argv) > 2:
        with open(argv[2]) as f:
            lat = json.load(f)
        for s in lat["subjects"]:
            if s["subject"] in ("ringtail_emit_3fields", "raw_ring_64B"):
                r = s["p99.9_ns"] / s["p50_ns"]
                row(f"{s['subject']} p99.9 <= 4x p50 (spaced emits)",
                    f"p50 {s['p50_ns']:.1f} ns, p99.9 {s['p99.9_ns']:.1f} ns = {r:.1f}x", r <= 4)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
