#!/usr/bin/env python3
"""Query benchmark: `ringtail query` and `ringtail stats` over stored JSONL,
compared in the same run with jq and grep -c on the same file.

It writes one storage directory holding a single closed plain file of N
agent-like events (~200-byte lines, the shape ringtail writes), warms the page
cache and ringtail's index (built once, then trusted), then times, best of
--repeat runs:

  scan, nothing matches   ringtail query DIR --where tool=nonexistent   vs  grep -c '"tool":"nonexistent"'  and  jq
  scan, 1% matches        ringtail query DIR --where bucket=42          vs  grep -c '"bucket":42,'          and  jq
  stats --by tool         ringtail stats DIR --by tool --json           vs  jq reduce (count by tool)

and prints GB/s of JSONL and ratios. Every pair is checked to give the same
count.

  python3 bench/query_bench.py [--build build] [--events 10000000] [--repeat 3] [--keep DIR]
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

BASE_NS = 1796032800 * 10**9  # 2026-11-30T10:00:00Z


def timestamp(ns):
    seconds, nanos = divmod(ns, 10**9)
    t = time.gmtime(seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, nanos)


def write_data(path, events):
    rng = random.Random(7)
    tools = ["grep", "write_file", "web_search", "run_code", "vector_recall", "read_file", "list_dir"]
    statuses = ["SUCCESS"] * 9 + ["FAILURE"]
    ns = BASE_NS
    second = None
    prefix = ""
    with open(path, "w") as f:
        lines = []
        for i in range(events):
            ns += 1000 + (i * 7919) % 5000
            s = ns // 10**9
            if s != second:
                second = s
                prefix = timestamp(s * 10**9)[:20]
            lines.append('{"timestamp":"%s%09dZ","level":"INFO","message":"tool.call","service":"agent","pid":4242,'
                         '"tid":%d,"seq":%d,"run_id":"run-%d","step_id":%d,"tool":"%s","bucket":%d,"status":"%s",'
                         '"duration_ms":%d.%03d}\n'
                         % (prefix, ns % 10**9, 4243 + i % 4, i // 4, i % 997, i % 13, tools[i % 7], rng.randrange(100),
                            statuses[i % 10], rng.randrange(500), rng.randrange(1000)))
            if len(lines) == 100000:
                f.writelines(lines)
                lines = []
        f.writelines(lines)
    return BASE_NS, ns


def best_of(repeat, argv, **kwargs):
    best = None
    out = None
    for _ in range(repeat):
        start = time.monotonic()
        result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
        elapsed = time.monotonic() - start
        if result.returncode not in (0, 1):  # grep -c exits 1 when it counts 0
            sys.exit("%s failed (%d): %s" % (" ".join(argv[:3]), result.returncode, result.stderr[-500:]))
        if best is None or elapsed < best:
            best = elapsed
        out = result.stdout
    return best, out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-jq", action="store_true", help="jq is slow: leave it out")
    parser.add_argument("--keep", help="build the data here and keep it (reused if present)")
    args = parser.parse_args()
    ringtail = os.path.join(args.build, "tools", "ringtail")
    if not os.access(ringtail, os.X_OK):
        parser.error(ringtail + " not found: build first")
    for tool in ("grep", "jq"):
        if shutil.which(tool) is None and not (tool == "jq" and args.skip_jq):
            parser.error(tool + " not found (bash scripts/install-deps.sh installs it)")

    root = args.keep or tempfile.mkdtemp(prefix="ringtail-query-bench-")
    try:
        day = os.path.join(root, "store", "agent", "2026-11-30")
        os.makedirs(day, exist_ok=True)
        existing = [n for n in os.listdir(day) if n.endswith(".jsonl")]
        if existing:
            path = os.path.join(day, existing[0])
        else:
            tmp = os.path.join(day, "data.tmp")
            first, last = write_data(tmp, args.events)
            stamp = lambda t: t[0:4] + t[5:7] + t[8:10] + "T" + t[11:13] + t[14:16] + t[17:19] + t[19:]
            path = os.path.join(day, "agent-4242-info-%s-%s.jsonl" % (stamp(timestamp(first)), stamp(timestamp(last))))
            os.rename(tmp, path)
        store = os.path.join(root, "store")
        size = os.path.getsize(path)
        # Warm: page cache, and ringtail's index (built once from the data).
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
        subprocess.run([ringtail, "query", store, "--where", "tool=nonexistent"], capture_output=True, check=True)

        results = []

        def scan(name, where, needle, jq_filter):
            t_rt, out = best_of(args.repeat, [ringtail, "query", store, "--where", where])
            rt_count = len(out.splitlines())
            t_grep, out = best_of(args.repeat, ["grep", "-c", needle, path])
            grep_count = int(out.strip() or 0)
            row = {"case": name, "ringtail_s": t_rt, "grep_s": t_grep, "matches": rt_count,
                   "ringtail_gb_s": size / t_rt / 1e9, "grep_gb_s": size / t_grep / 1e9}
            if grep_count != rt_count:
                sys.exit("%s: ringtail %d matches, grep -c %d" % (name, rt_count, grep_count))
            if not args.skip_jq:
                t_jq, out = best_of(1, ["jq", "-c", jq_filter, path])
                jq_count = len(out.splitlines())
                if jq_count != rt_count:
                    sys.exit("%s: ringtail %d matches, jq %d" % (name, rt_count, jq_count))
                row.update({"jq_s": t_jq, "jq_gb_s": size / t_jq / 1e9})
            results.append(row)

        scan("scan, nothing matches", "tool=nonexistent", '"tool":"nonexistent"', 'select(.tool=="nonexistent")')
        scan("scan, 1% matches", "bucket=42", '"bucket":42,', "select(.bucket==42)")

        t_rt, out = best_of(args.repeat, [ringtail, "stats", store, "--by", "tool", "--json"])
        rt_counts = {g["key"]["tool"]: g["count"] for g in json.loads(out)["groups"]}
        row = {"case": "stats --by tool", "ringtail_s": t_rt, "ringtail_gb_s": size / t_rt / 1e9,
               "matches": sum(rt_counts.values())}
        if not args.skip_jq:
            t_jq, out = best_of(1, ["jq", "-n", "reduce inputs as $e ({}; .[$e.tool] += 1)", path])
            if json.loads(out) != rt_counts:
                sys.exit("stats: ringtail and jq disagree")
            row.update({"jq_s": t_jq, "jq_gb_s": size / t_jq / 1e9})
        results.append(row)

        print("%d events, %.2f GB of JSONL (page cache warm), best of %d (jq: 1 run)" % (args.events, size / 1e9,
                                                                                      args.repeat))
        print("%-22s %10s %10s %10s %10s %12s %12s" % ("case", "ringtail s", "GB/s", "grep -c s", "jq s", "vs jq",
                                                       "vs grep -c"))
        for r in results:
            print("%-22s %10.3f %10.2f %10s %10s %12s %12s" % (
                r["case"], r["ringtail_s"], r["ringtail_gb_s"],
                "%.3f" % r["grep_s"] if "grep_s" in r else "-",
                "%.2f" % r["jq_s"] if "jq_s" in r else "-",
                "%.1fx" % (r["jq_s"] / r["ringtail_s"]) if "jq_s" in r else "-",
                "%.2fx" % (r["grep_s"] / r["ringtail_s"]) if "grep_s" in r else "-"))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
