#!/usr/bin/env python3
"""HTML report benchmark: `ringtail report DIR --html` over a store of N
agent-like lines, compared in the same run with the text verbs that compute
part of the same figures, and the page opened in headless Chromium.

It writes one storage directory as the drain lays it out (one closed plain
file per service and level class, 3 services: 9 files) holding N lines of
agent runs: a trace per run (span.start / span.end lines, ~8 step spans under
a root span), step.start / step.end, llm.call with fractional costs,
policy.check (some BLOCK), ERROR lines with an "error" object, a few
breakglass events and ringtail.dropped notes, over about one hour. It warms
the page cache and ringtail's index, then times, best of --repeat runs:

  report --html      ringtail report DIR --html -o OUT --no-progress   (and the size of OUT)
  text verbs         ringtail stats DIR --by level --json  +  ringtail report DIR --cost --by model --json
  browser            chromium --headless --dump-dom file://OUT          (and the page's own data-render-ms)
  browser baseline   chromium --headless --dump-dom of a trivial page   (Chromium's startup)

and checks the report's figures against what the generator wrote (events,
levels, tools, policy, breakglass, drops, cost, roots, failed spans, error
lines) and the text verbs' answers: a mismatch, or a page that does not say
data-rendered="ok", fails. Chromium runs --browser-repeat times per page,
alternating the two pages, each run with a throwaway --user-data-dir; its
rows are the best wall time and the best data-render-ms. The generated data
is deterministic (fixed seeds): the same N gives the same store.

  /usr/bin/python3 bench/report_bench.py [--build build] [--events 10000000] [--repeat 3] [--keep DIR]
                                         [--browser-repeat 5] [--skip-browser] [--chromium PATH]
"""

import argparse
import decimal
import heapq
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from query_bench import BASE_NS, best_of, timestamp  # noqa: E402

HOUR_NS = 3600 * 10**9
USD_UNIT = decimal.Decimal("1e-18")  # ringtail reads each cost_usd to 18 decimals, half to even
CONCURRENT_RUNS = 48  # runs in flight at once: one per worker thread
SERVICES = [("agent", 4242), ("planner", 4243), ("retriever", 4244)]
CLASSES = {"INFO": "info", "WARN": "warn", "ERROR": "error"}
TOOLS = ["web_search", "read_file", "write_file", "run_code", "vector_recall", "grep", "list_dir", "http_get"]
TOOL_MS = [900, 15, 25, 2500, 60, 40, 8, 400]  # typical duration of each tool
MODELS = [  # (name, USD per input token, USD per output token, weight)
    ("gpt-4o", 2.5e-6, 1e-5, 4), ("gpt-4o-mini", 1.5e-7, 6e-7, 5),
    ("claude-3-5-sonnet", 3e-6, 1.5e-5, 3), ("llama-3-70b", 5.9e-7, 7.9e-7, 1)]
MODEL_CHOICE = [m for m in MODELS for _ in range(m[3])]
POLICIES = [("net", "egress_allowlist"), ("fs", "path_guard"), ("pii", "pii_scanner"), ("budget", "cost_cap")]
BLOCK_REASONS = ["host not in allowlist", "path outside workspace", "email address in arguments",
                 "run budget exceeded", "secret in arguments"]
ERRORS = [("TimeoutError", "no answer in 30 s", 504), ("RateLimitError", "rate limit exceeded, retry in 2 s", 429),
          ("ToolError", "exit status 1", 1), ("std::runtime_error", "disk full", None),
          ("ValidationError", "arguments do not match the tool's schema", 422)]

# Kinds of lines, for the expected figures.
K_SPAN_START, K_SPAN_END, K_ROOT_END, K_SPAN_FAIL, K_ROOT_FAIL = range(5)
(K_STEP_START, K_STEP_END, K_STEP_FAIL, K_LLM, K_POLICY, K_POLICY_BLOCK, K_TOOL_ERROR, K_BREAKGLASS,
 K_DROPPED) = range(5, 14)
KINDS = 14


def worker(w, gap_ns, p_breakglass, p_drop):
    """Yields (ns, w, file, body, kind, extra) for the runs of one thread, forever.

    body is the line after its timestamp; the runs of one thread follow each
    other, and the merged stream of all threads is in time order.
    """
    rng = random.Random(1000 + w)
    rand, randrange, bits = rng.random, rng.randrange, rng.getrandbits
    s_index = 0 if w % 2 == 0 else 1 + (w // 2) % 2  # half the threads "agent"
    service, pid = SERVICES[s_index]
    tid = pid * 10 + w
    head = '","service":"%s","pid":%d,"tid":%d' % (service, pid, tid)
    files = {level: s_index * 3 + i for i, level in enumerate(CLASSES)}
    f_info, f_warn, f_error = files["INFO"], files["WARN"], files["ERROR"]
    seq = 0
    run = 0
    ns = BASE_NS + randrange(gap_ns * 40)

    def tick():
        return 1 + int(gap_ns * (0.2 + 1.6 * rand()))

    while True:
        run += 1
        run_id = "run-%d-%d" % (w, run)
        trace = "%032x" % bits(128)
        root = "%016x" % bits(64)
        root_start = ns
        yield (ns, w, f_info, '","level":"INFO","message":"span.start%s,"span":"run","trace_id":"%s","span_id":"%s",'
               '"run_id":"%s","agent":"%s"}\n' % (head, trace, root, run_id, service), K_SPAN_START, None)
        run_failed = False
        for step in range(1, 6 + randrange(6)):
            ti = randrange(len(TOOLS))
            tool = TOOLS[ti]
            span = "%016x" % bits(64)
            ctx = ',"run_id":"%s","trace_id":"%s","span_id":"%s"}\n' % (run_id, trace, span)
            ns += tick()
            step_start = ns
            yield (ns, w, f_info, '","level":"INFO","message":"span.start%s,"span":"step","trace_id":"%s","span_id":'
                   '"%s","parent_span_id":"%s","tool":"%s","step_id":%d}\n' % (head, trace, span, root, tool, step),
                   K_SPAN_START, None)
            if rand() < p_drop:  # the ring was full: a gap in this thread's seq
                dropped = 1 + randrange(400)
                ns += tick()
                yield (ns, w, f_warn, '","level":"WARN","message":"ringtail.dropped%s,"dropped":%d,"first_seq":%d,'
                       '"last_seq":%d}\n' % (head, dropped, seq, seq + dropped - 1), K_DROPPED, dropped)
                seq += dropped
            ns += tick()
            yield (ns, w, f_info, '","level":"INFO","message":"step.start%s,"seq":%d,"run_id":"%s","step_id":%d,'
                   '"tool":"%s","trace_id":"%s","span_id":"%s"}\n' % (head, seq, run_id, step, tool, trace, span),
                   K_STEP_START, None)
            seq += 1
            if rand() < 0.6:
                model, p_in, p_out, _ = MODEL_CHOICE[randrange(len(MODEL_CHOICE))]
                t_in = 200 + randrange(6000)
                t_out = 20 + randrange(900)
                cost = repr(t_in * p_in + t_out * p_out)
                llm_start = ns
                ns += tick()
                yield (ns, w, f_info, '","level":"INFO","message":"llm.call%s,"seq":%d,"model":"%s","input_tokens":%d,'
                       '"output_tokens":%d,"cost_usd":%s,"duration_ms":%.3f,"provider":"%s"%s'
                       % (head, seq, model, t_in, t_out, cost, (ns - llm_start) / 1e6,
                          "openai" if model.startswith("gpt") else "other", ctx), K_LLM, cost)
                seq += 1
            if rand() < 0.4:
                policy, validator = POLICIES[randrange(len(POLICIES))]
                ns += tick()
                if rand() < 0.04:
                    reason = BLOCK_REASONS[randrange(len(BLOCK_REASONS))]
                    yield (ns, w, f_warn, '","level":"WARN","message":"policy.check%s,"seq":%d,"policy":"%s",'
                           '"validator":"%s","decision":"BLOCK","allow":false,"reason":"%s"%s'
                           % (head, seq, policy, validator, reason, ctx), K_POLICY_BLOCK, None)
                    if rand() < p_breakglass:
                        seq += 1
                        ns += tick()
                        yield (ns, w, f_warn, '","level":"WARN","message":"breakglass%s,"seq":%d,"enabled_by":'
                               '"oncall@example.com","reason":"incident INC-%d: %s","expires_at":"%s.000Z",'
                               '"token_hash":"hmac:%016x","affected_validators":"%s","affected_decisions":"BLOCK"%s'
                               % (head, seq, 1000 + randrange(9000), reason, timestamp(ns + HOUR_NS)[:19],
                                  bits(64), validator, ctx), K_BREAKGLASS, None)
                else:
                    yield (ns, w, f_info, '","level":"INFO","message":"policy.check%s,"seq":%d,"policy":"%s",'
                           '"validator":"%s","decision":"ALLOW","allow":true,"reason":"ok"%s'
                           % (head, seq, policy, validator, ctx), K_POLICY, None)
                seq += 1
            ns += tick()
            u = rand()
            status = "SUCCESS" if u < 0.9 else "FAILURE" if u < 0.97 else "PARTIAL"
            ms = TOOL_MS[ti] * (0.3 + 2 * rand() * rand() * 3)
            error = ""
            if status == "FAILURE":
                etype, emsg, ecode = ERRORS[randrange(len(ERRORS))]
                error = ('{"type":"%s","message":"%s","code":%d}' % (etype, emsg, ecode) if ecode is not None
                         else '{"type":"%s","message":"%s"}' % (etype, emsg))
                yield (ns, w, f_error, '","level":"ERROR","message":"tool.error%s,"seq":%d,"tool":"%s","error":%s%s'
                       % (head, seq, tool, error, ctx), K_TOOL_ERROR, None)
                seq += 1
                ns += tick()
                yield (ns, w, f_warn, '","level":"WARN","message":"step.end%s,"seq":%d,"run_id":"%s","step_id":%d,'
                       '"tool":"%s","status":"FAILURE","duration_ms":%.3f,"trace_id":"%s","span_id":"%s"}\n'
                       % (head, seq, run_id, step, tool, ms, trace, span), K_STEP_FAIL, None)
            else:
                yield (ns, w, f_info, '","level":"INFO","message":"step.end%s,"seq":%d,"run_id":"%s","step_id":%d,'
                       '"tool":"%s","status":"%s","duration_ms":%.3f,"trace_id":"%s","span_id":"%s"}\n'
                       % (head, seq, run_id, step, tool, status, ms, trace, span), K_STEP_END, None)
            seq += 1
            ns += tick()
            if error:
                run_failed = True
                yield (ns, w, f_warn, '","level":"WARN","message":"span.end%s,"span":"step","trace_id":"%s","span_id":'
                       '"%s","parent_span_id":"%s","status":"ERROR","error":%s,"duration_ms":%.6f}\n'
                       % (head, trace, span, root, error, (ns - step_start) / 1e6), K_SPAN_FAIL, None)
            else:
                yield (ns, w, f_info, '","level":"INFO","message":"span.end%s,"span":"step","trace_id":"%s","span_id":'
                       '"%s","parent_span_id":"%s","status":"OK","duration_ms":%.6f}\n'
                       % (head, trace, span, root, (ns - step_start) / 1e6), K_SPAN_END, None)
        ns += tick()
        if run_failed and rand() < 0.5:  # the run gives up: the root fails too
            yield (ns, w, f_warn, '","level":"WARN","message":"span.end%s,"span":"run","trace_id":"%s","span_id":"%s",'
                   '"status":"ERROR","error":{"type":"RunFailed","message":"a step failed"},"duration_ms":%.6f}\n'
                   % (head, trace, root, (ns - root_start) / 1e6), K_ROOT_FAIL, None)
        else:
            yield (ns, w, f_info, '","level":"INFO","message":"span.end%s,"span":"run","trace_id":"%s","span_id":"%s",'
                   '"status":"OK","duration_ms":%.6f}\n' % (head, trace, root, (ns - root_start) / 1e6),
                   K_ROOT_END, None)
        ns += tick() * 4  # the thread waits for its next run


def file_stamp(ns):
    t = timestamp(ns)
    return t[0:4] + t[5:7] + t[8:10] + "T" + t[11:13] + t[14:16] + t[17:19] + t[19:]


def write_data(store, events):
    """Writes `events` lines under store/; returns the figures the report must show."""
    lines_per_run = 40  # 5-10 steps of ~5 lines, and the root span
    gap_ns = HOUR_NS * CONCURRENT_RUNS // events  # each thread's mean gap between lines: N lines in ~1 hour
    runs = max(1, events // lines_per_run)
    p_breakglass = min(1.0, 8 / (runs * 8 * 0.4 * 0.04))  # ~8 breakglass events whatever N
    p_drop = min(1.0, 12 / (runs * 8))  # ~12 ringtail.dropped notes
    streams = [worker(w, gap_ns, p_breakglass, p_drop) for w in range(CONCURRENT_RUNS)]
    keys = [(service, pid, cls) for service, pid in SERVICES for cls in CLASSES.values()]
    day = timestamp(BASE_NS)[:10]
    paths, handles, buffers = [], [], []
    for service, pid, cls in keys:
        directory = os.path.join(store, service, day)
        os.makedirs(directory, exist_ok=True)
        paths.append(os.path.join(directory, "%s-%d-%s.tmp" % (service, pid, cls)))
        handles.append(open(paths[-1], "w"))
        buffers.append([])
    first = [None] * len(keys)
    last = [None] * len(keys)
    kinds = [0] * KINDS
    dropped = 0
    cost = decimal.Decimal(0)
    costs = []
    second = None
    prefix = ""
    written = 0
    for ns, _, fi, body, kind, extra in heapq.merge(*streams):
        s = ns // 10**9
        if s != second:
            second = s
            prefix = timestamp(s * 10**9)[:20]
        buffers[fi].append('{"timestamp":"%s%09dZ%s' % (prefix, ns % 10**9, body))
        if first[fi] is None:
            first[fi] = ns
        last[fi] = ns
        kinds[kind] += 1
        if kind == K_LLM:
            costs.append(extra)
        elif kind == K_DROPPED:
            dropped += extra
        written += 1
        if written % 100000 == 0:
            for b, h in zip(buffers, handles):
                h.writelines(b)
                b.clear()
            cost += sum(decimal.Decimal(c).quantize(USD_UNIT) for c in costs)
            costs = []
        if written == events:
            break
    cost += sum(decimal.Decimal(c).quantize(USD_UNIT) for c in costs)
    for b, h in zip(buffers, handles):
        h.writelines(b)
        h.close()
    for i, (service, pid, cls) in enumerate(keys):
        if first[i] is None:
            os.remove(paths[i])
            continue
        os.rename(paths[i], os.path.join(os.path.dirname(paths[i]), "%s-%d-%s-%s-%s.jsonl" % (
            service, pid, cls, file_stamp(first[i]), file_stamp(last[i]))))
    by_level = {"INFO": 0, "WARN": 0, "ERROR": 0}
    warn_kinds = (K_SPAN_FAIL, K_ROOT_FAIL, K_STEP_FAIL, K_POLICY_BLOCK, K_BREAKGLASS, K_DROPPED)
    for k, n in enumerate(kinds):
        by_level["ERROR" if k == K_TOOL_ERROR else "WARN" if k in warn_kinds else "INFO"] += n
    return {
        "events": written,
        "by_level": by_level,
        "tool_calls": kinds[K_STEP_END] + kinds[K_STEP_FAIL],
        "tool_errors": kinds[K_TOOL_ERROR],
        "policy_checks": kinds[K_POLICY] + kinds[K_POLICY_BLOCK],
        "denied_total": kinds[K_POLICY_BLOCK],
        "breakglass": kinds[K_BREAKGLASS],
        "dropped": dropped,
        "llm_calls": kinds[K_LLM],
        "cost_usd": str(cost),
        "roots": kinds[K_ROOT_END] + kinds[K_ROOT_FAIL],
        "failed_spans": kinds[K_SPAN_FAIL] + kinds[K_ROOT_FAIL],
        "error_object_lines": kinds[K_TOOL_ERROR] + kinds[K_SPAN_FAIL] + kinds[K_ROOT_FAIL],
    }


def report_data(html):
    match = re.search(r'<script type="application/json" id="ringtail-data">(.*?)</script>', html, re.S)
    if not match:
        sys.exit("report: no <script id=\"ringtail-data\"> in the HTML")
    return json.loads(match.group(1))


def check(expected, data, stats, cost):
    """The report's figures against the generator's and the text verbs'; returns the failures."""
    failures = []

    def same(name, got, want):
        if got != want:
            failures.append("%s: report %r, expected %r" % (name, got, want))

    o = data["overview"]
    same("overview.events", o["events"], expected["events"])
    levels = {g["key"]: g["count"] for g in o["by_level"]}
    same("overview.by_level = stats --by level", levels, {g["key"]["level"]: g["count"] for g in stats["groups"]})
    same("overview.by_level", levels, {k: n for k, n in expected["by_level"].items() if n})
    same("overview.errors", o["errors"], expected["tool_errors"])
    same("overview.drops.dropped", o["drops"]["dropped"], expected["dropped"])
    same("tools.calls", data["tools"]["calls"], expected["tool_calls"])
    same("sum of tools.rows calls", sum(r["calls"] for r in data["tools"]["rows"]), expected["tool_calls"])
    same("policy.checks", data["policy"]["checks"], expected["policy_checks"])
    same("policy.denied_total", data["policy"]["denied_total"], expected["denied_total"])
    same("policy.breakglass rows", len(data["policy"]["breakglass"]), min(100, expected["breakglass"]))
    same("cost.requests", data["cost"]["requests"], expected["llm_calls"])
    same("cost.cost_usd", decimal.Decimal(data["cost"]["cost_usd"]), decimal.Decimal(expected["cost_usd"]))
    same("cost = report --cost --json", (data["cost"]["requests"], decimal.Decimal(data["cost"]["cost_usd"])),
         (cost["requests"], decimal.Decimal(cost["cost_usd"])))
    same("traces.roots", data["traces"]["roots"], expected["roots"])
    same("traces.failed_spans", data["traces"]["failed_spans"], expected["failed_spans"])
    same("errors.total", data["errors"]["total"], expected["error_object_lines"])
    same("traces.slowest", len(data["traces"]["slowest"]), min(10, expected["roots"]))
    return failures


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(repeat, argv):
    """best_of's best wall seconds and output, and the mean CPU seconds (user + system) of its runs."""
    before = children_cpu()
    wall, out = best_of(repeat, argv)
    return wall, (children_cpu() - before) / repeat, out


def chromium_run(chromium, url):
    """One headless Chromium --dump-dom of url with a throwaway profile: (seconds, DOM).

    No CPU time: Chromium's renderers are not all reaped up to us, so RUSAGE_CHILDREN misses most of it.
    """
    profile = tempfile.mkdtemp(prefix="ringtail-report-bench-chromium-")
    try:
        start = time.monotonic()
        result = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + profile,
                                 "--dump-dom", url], capture_output=True, text=True, timeout=120)
        elapsed = time.monotonic() - start
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if result.returncode != 0:
        sys.exit("chromium failed (%d): %s" % (result.returncode, result.stderr[-500:]))
    return elapsed, result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--events", type=int, default=10_000_000, help="lines in the store")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium",
                        default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    parser.add_argument("--browser-repeat", type=int, default=5, help="Chromium runs of each page (cheap, noisy)")
    parser.add_argument("--skip-browser", action="store_true", help="no Chromium: time the report only")
    parser.add_argument("--keep", help="build the data here and keep it (reused if present, with its --events)")
    args = parser.parse_args()
    ringtail = os.path.join(args.build, "tools", "ringtail")
    if not os.access(ringtail, os.X_OK):
        parser.error(ringtail + " not found: build first")
    if not args.skip_browser and shutil.which(args.chromium) is None:
        parser.error(args.chromium + " not found (or pass --skip-browser)")

    root = args.keep or tempfile.mkdtemp(prefix="ringtail-report-bench-")
    try:
        store = os.path.join(root, "store")
        manifest = os.path.join(root, "expected.json")
        if os.path.exists(manifest):
            with open(manifest) as f:
                expected = json.load(f)
            if expected["events"] != args.events:
                sys.exit("%s holds %d events, not %d: use another --keep" % (root, expected["events"], args.events))
        else:
            shutil.rmtree(store, ignore_errors=True)
            start = time.monotonic()
            expected = write_data(store, args.events)
            print("wrote %d lines in %.1f s" % (expected["events"], time.monotonic() - start), flush=True)
            with open(manifest, "w") as f:
                json.dump(expected, f, indent=1)
        files = [os.path.join(d, n) for d, _, names in os.walk(store) for n in names if n.endswith(".jsonl")]
        size = sum(os.path.getsize(p) for p in files)
        # Warm: page cache, and ringtail's index of each file (built once from the data).
        subprocess.run(["cat"] + files, stdout=subprocess.DEVNULL, check=True)
        subprocess.run([ringtail, "stats", store, "--json"], capture_output=True, check=True)

        # best_of lets exit status 1 through (grep -c's "none"); for ringtail it is a failure, which leaves no
        # HTML file and no JSON on stdout, and is caught below.
        out = os.path.join(root, "report.html")
        if os.path.exists(out):
            os.remove(out)
        load = os.getloadavg()[0]
        t_html, c_html, _ = timed(args.repeat, [ringtail, "report", store, "--html", "-o", out, "--no-progress"])
        if not os.path.exists(out):
            sys.exit("ringtail report --html wrote no " + out)
        html_bytes = os.path.getsize(out)
        with open(out, encoding="utf-8") as f:
            data = report_data(f.read())
        t_stats, c_stats, stats_out = timed(args.repeat, [ringtail, "stats", store, "--by", "level", "--json"])
        t_cost, c_cost, cost_out = timed(args.repeat, [ringtail, "report", store, "--cost", "--by", "model", "--json"])
        try:
            stats, cost = json.loads(stats_out), json.loads(cost_out, parse_float=decimal.Decimal)
        except ValueError:
            sys.exit("ringtail stats or report --cost printed no JSON")
        failures = check(expected, data, stats, cost)

        rows = [("report --html", "%.3f s" % t_html, "%.2f s" % c_html, "%.2f M lines/s, %.2f GB/s; HTML %d bytes" % (
                    expected["events"] / t_html / 1e6, size / t_html / 1e9, html_bytes)),
                ("stats --by level --json", "%.3f s" % t_stats, "%.2f s" % c_stats, ""),
                ("report --cost --by model --json", "%.3f s" % t_cost, "%.2f s" % c_cost, ""),
                ("report --html / (stats + cost)", "%.2fx" % (t_html / (t_stats + t_cost)),
                 "%.2fx" % (c_html / (c_stats + c_cost)), "")]
        if not args.skip_browser:
            trivial = os.path.join(root, "trivial.html")
            with open(trivial, "w") as f:
                f.write("<!DOCTYPE html><html><head><title>t</title></head><body><p>hello</p></body></html>\n")
            t_page = t_base = None
            render_ms = []
            for _ in range(args.browser_repeat):  # alternated, so that both see the same machine
                t, _ = chromium_run(args.chromium, "file://" + os.path.abspath(trivial))
                t_base = t if t_base is None else min(t_base, t)
                t, dom = chromium_run(args.chromium, "file://" + os.path.abspath(out))
                t_page = t if t_page is None else min(t_page, t)
                body = re.search(r"<body[^>]*>", dom)
                attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(0))) if body else {}
                if attrs.get("data-rendered") != "ok":
                    errors = re.search(r'<pre id="script-errors"[^>]*>(.*?)</pre>', dom, re.S)
                    failures.append("page: data-rendered=%r, script errors: %s" % (
                        attrs.get("data-rendered"), errors.group(1)[:500] if errors else "?"))
                if "data-render-ms" in attrs:
                    render_ms.append(float(attrs["data-render-ms"]))
            rows += [("chromium --dump-dom, report", "%.3f s" % t_page, "", ""),
                     ("chromium --dump-dom, trivial page", "%.3f s" % t_base, "", "startup baseline"),
                     ("report page: wall - baseline", "%.3f s" % (t_page - t_base), "", ""),
                     ("report page: data-render-ms", "%.1f ms" % min(render_ms) if render_ms else "-", "",
                      "best; runs: " + " ".join("%.1f" % m for m in render_ms))]

        print("%d lines (%d llm.call, %d step.end, %d root spans), %.2f GB of JSONL in %d files (page cache warm), "
              "best of %d (Chromium: of %d)" % (expected["events"], expected["llm_calls"], expected["tool_calls"],
                                                expected["roots"], size / 1e9, len(files), args.repeat,
                                                args.browser_repeat))
        print("load average %.1f before, %.1f after (%d CPUs); CPU = user + system, mean per run"
              % (load, os.getloadavg()[0], os.cpu_count()))
        print("%-34s %10s %10s" % ("", "wall", "CPU"))
        for name, wall, cpu, note in rows:
            print("%-34s %10s %10s   %s" % (name, wall, cpu, note))
        if failures:
            print("FIGURES DIFFER:", file=sys.stderr)
            for failure in failures:
                print("  " + failure, file=sys.stderr)
            sys.exit(1)
        print("figures checked: events, levels, errors, drops, tools, policy, breakglass, cost, roots, failed spans")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
