#!/usr/bin/env python3
"""Checks `ringtail query`, `stats` and `report --cost` against an independent
computation in Python over generated data.

It writes a storage directory the way `ringtail drain` lays it out
(docs/STORAGE.md): several services, processes and level classes, several
rotated files each, one still "-open", JSONL lines in ringtail's canonical form
(docs/FORMAT.md). Then, for plain files and again after compressing every closed
file with the zstd CLI (indexes removed, so ringtail must rebuild them), it runs
the tool and compares every answer with what Python computes from the same
lines: the same events in timestamp order, the same counts, shares, success
rates, exact nearest-rank percentiles and exact decimal cost sums. Last, damage:
a corrupt index is rebuilt and gives the same answers; a corrupt .zst and a
truncated last line are reported on stderr and the rest is answered.

  check_answers.py --ringtail build/tools/ringtail [--keep DIR]
"""

import argparse
import csv
import decimal
import io
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

FAILURES = []
decimal.getcontext().prec = 60  # sums of 18-decimal amounts stay exact

BASE_NS = 1796032800 * 10**9  # 2026-11-30T10:00:00Z
LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL"]
CLASS_OF = {"TRACE": "debug", "DEBUG": "debug", "INFO": "info", "WARN": "warn", "ERROR": "error", "CRITICAL": "error"}


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def timestamp(ns):
    seconds, nanos = divmod(ns, 10**9)
    import time
    t = time.gmtime(seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ" % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, nanos)


def stamp(ns):
    t = timestamp(ns)
    return t[0:4] + t[5:7] + t[8:10] + "T" + t[11:13] + t[14:16] + t[17:19] + t[19:]


def line_text(event):
    # Canonical: no spaces, raw UTF-8, lowercase \u00XX for other control characters.
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


def make_events(rng):
    """Events of 2 services x 2 processes, as agent runtimes log them."""
    events = []
    tools = ["grep", "write_file", "web_search", "run_code", "vector_recall"]
    models = ["gpt-4o", "claude-sonnet", "llama-3-70b"]
    for service in ("agent", "planner"):
        for pid in (rng.randint(1000, 30000), rng.randint(1000, 30000)):
            ns = BASE_NS + rng.randint(0, 10**9)
            seq = {}
            for n in range(2500):
                ns += rng.randint(1, 40) * 10**6
                tid = pid + rng.randint(0, 3)
                seq[tid] = seq.get(tid, -1) + 1
                kind = rng.random()
                base = {"timestamp": timestamp(ns), "service": service, "pid": pid, "tid": tid, "seq": seq[tid]}
                if kind < 0.35:
                    status = rng.choice(["SUCCESS"] * 8 + ["FAILURE", "PARTIAL"])
                    fields = {"run_id": "run-%d" % rng.randint(1, 20), "step_id": rng.randint(1, 9),
                              "tool": rng.choice(tools), "status": status,
                              "duration_ms": round(rng.uniform(0.1, 400.0), 3), "agent_id": "agent-%d" % rng.randint(1, 4)}
                    level, message = ("INFO", "tool.call") if status != "FAILURE" else ("ERROR", "tool.call")
                elif kind < 0.5:
                    allow = rng.random() < 0.8
                    fields = {"agent_id": "agent-%d" % rng.randint(1, 4), "tool": rng.choice(tools), "allow": allow,
                              "reason": "ok" if allow else "policy \"no-net\" denies\tit"}
                    level, message = ("INFO" if allow else "WARN"), "audit.decision"
                elif kind < 0.7:
                    model = rng.choice(models)
                    tokens = rng.randint(100, 5000)
                    cost = rng.choice([round(tokens * 0.000005, 7), tokens * 0.0000031, round(rng.uniform(0, 0.2), 6)])
                    if rng.random() < 0.5:
                        fields = {"model": model, "tokens": tokens, "cost_usd": cost}
                        level, message = "INFO", "cost"
                    else:
                        # agent::llm_call: tokens are input + output.
                        fields = {"model": model, "input_tokens": tokens - tokens // 4,
                                  "output_tokens": tokens // 4, "cost_usd": cost,
                                  "duration_ms": round(rng.uniform(50.0, 3000.0), 1), "provider": "p%d" % rng.randint(1, 2)}
                        level, message = "INFO", "llm.call"
                elif kind < 0.9:
                    op = rng.choice(["STORE", "RECALL", "FORGET"])
                    fields = {"operation": op, "user_id": "u%d" % rng.randint(1, 6),
                              "session_id": "s%d" % rng.randint(1, 30),
                              "status": rng.choice(["SUCCESS"] * 5 + ["FAILURE"]),
                              "duration_ms": round(rng.uniform(0.01, 30.0), 4)}
                    level, message = rng.choice(["DEBUG", "INFO"]), "memory.op"
                elif kind < 0.95:
                    fields = {"code": rng.choice([404, 500, 503, 18446744073709551615]),
                              "error": {"type": "IOError", "message": "caf\u00e9 \u00ff\x01 failed"}}
                    level, message = rng.choice(["ERROR", "CRITICAL", "TRACE"]), "error"
                else:
                    # A span.end line as the reader writes it: no seq, status OK or ERROR.
                    fields = {"span": rng.choice(["plan", "act"]), "trace_id": "%032x" % rng.getrandbits(128),
                              "span_id": "%016x" % rng.getrandbits(64), "status": rng.choice(["OK"] * 3 + ["ERROR"]),
                              "duration_ms": round(rng.uniform(0.5, 900.0), 3)}
                    level, message = ("INFO" if fields["status"] == "OK" else "WARN"), "span.end"
                event = {"timestamp": base["timestamp"], "level": level, "message": message, "service": service,
                         "pid": pid, "tid": tid}
                if message != "span.end":
                    event["seq"] = base["seq"]
                event.update(fields)
                events.append(event)
    return events


def write_store(directory, events, rng):
    """Lays events out as drain does: per service/pid/class, rotated files, the last of one open."""
    groups = {}
    for e in events:
        groups.setdefault((e["service"], e["pid"], CLASS_OF[e["level"]]), []).append(e)
    paths = []
    opened = False
    for (service, pid, cls), group in sorted(groups.items()):
        group.sort(key=lambda e: e["timestamp"])
        day = os.path.join(directory, service, group[0]["timestamp"][:10])
        os.makedirs(day, exist_ok=True)
        chunks = []
        at = 0
        while at < len(group):
            size = rng.randint(50, 400)
            chunks.append(group[at:at + size])
            at += size
        for i, chunk in enumerate(chunks):
            first = chunk[0]["timestamp"]
            last = chunk[-1]["timestamp"]
            to_stamp = lambda t: t[0:4] + t[5:7] + t[8:10] + "T" + t[11:13] + t[14:16] + t[17:19] + t[19:]
            if not opened and i == len(chunks) - 1 and cls == "info":
                name = "%s-%d-%s-%s-open.jsonl" % (service, pid, cls, to_stamp(first))
                opened = True
            else:
                name = "%s-%d-%s-%s-%s.jsonl" % (service, pid, cls, to_stamp(first), to_stamp(last))
            path = os.path.join(day, name)
            with open(path, "w", encoding="utf-8") as f:
                for e in chunk:
                    f.write(line_text(e) + "\n")
            paths.append(path)
    return paths


def run(ringtail, *args, expect=0):
    result = subprocess.run([ringtail] + list(args), capture_output=True, text=True)
    check(result.returncode == expect, "%s exited %d, not %d: %s" % (" ".join(args), result.returncode, expect,
                                                                    result.stderr.strip()))
    return result


# --- the independent answers ---------------------------------------------------

def get_path(event, key):
    if key in event:
        return True, event[key]
    if "." in key:
        value = event
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return False, None
            value = value[part]
        return True, value
    return False, None


def outcome(event):
    if event.get("status") in ("SUCCESS", "OK"):
        return True
    if event.get("status") in ("FAILURE", "PARTIAL", "ERROR"):
        return False
    if isinstance(event.get("allow"), bool):
        return event["allow"]
    if event.get("decision") == "ALLOW":
        return True
    if event.get("decision") == "BLOCK":
        return False
    return None


def nearest_rank(values, p):
    rank = math.ceil(p * len(values))
    return values[max(rank, 1) - 1]


def close(a, b):
    return a == b or (a is not None and b is not None and abs(a - b) <= 1e-5 * max(1.0, abs(a), abs(b)))


def compare_query(ringtail, directory, events, label, args, predicate, fields=None, limit=None):
    want = sorted((e for e in events if predicate(e)), key=lambda e: e["timestamp"])
    if limit:
        want = want[:limit]
    extra = ["--fields", ",".join(fields)] if fields else []
    extra += ["--limit", str(limit)] if limit else []
    out = run(ringtail, "query", directory, *args, *extra).stdout
    got = [json.loads(line) for line in out.splitlines()]
    if fields:
        want = [{k: e[k] for k in fields if k in e} for e in want]
    check(len(got) == len(want), "%s: query %s: %d lines, want %d" % (label, args, len(got), len(want)))
    # Same timestamp: any order across processes is fine; compare as sorted lists.
    key = lambda e: (e.get("timestamp", ""), json.dumps(e, sort_keys=True))
    check(sorted(got, key=key) == sorted(want, key=key), "%s: query %s: different events" % (label, args))
    stamps = [e.get("timestamp", "") for e in got]
    check(stamps == sorted(stamps), "%s: query %s: not in timestamp order" % (label, args))


def compare_stats(ringtail, directory, events, label, args, predicate, by, duration=None, most_common=None):
    kept = [e for e in events if predicate(e)]
    extra = ["--by", ",".join(by)] if by else []
    extra += ["--duration", duration] if duration else []
    extra += ["--most-common", most_common] if most_common else []
    got = json.loads(run(ringtail, "stats", directory, *args, *extra, "--json").stdout)
    check(got["total"] == len(kept), "%s: stats %s: total %d, want %d" % (label, args, got["total"], len(kept)))
    groups = {}
    for e in kept:
        key = tuple(json.dumps(get_path(e, k)[1], separators=(",", ":"), ensure_ascii=False) if get_path(e, k)[0]
                    else "null" for k in by)
        groups.setdefault(key, []).append(e)
    stamps = [e["timestamp"] for e in kept]
    import datetime
    def ns_of(t):
        d = datetime.datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
        return int(d.timestamp()) * 10**9 + int(t[20:29])
    span = max((ns_of(max(stamps)) - ns_of(min(stamps))) / 1e9, 1.0) if stamps else 1.0
    check(len(got["groups"]) == len(groups), "%s: stats %s: %d groups, want %d" % (label, args, len(got["groups"]),
                                                                                len(groups)))
    for g in got["groups"]:
        key = tuple(json.dumps(g["key"][k], separators=(",", ":"), ensure_ascii=False) for k in by)
        members = groups.get(key)
        if members is None:
            check(False, "%s: stats: unexpected group %s" % (label, key))
            continue
        what = "%s: stats %s group %s" % (label, args, key)
        check(g["count"] == len(members), what + ": count")
        check(close(g["share"], len(members) / len(kept)), what + ": share")
        check(close(g["rate_per_s"], len(members) / span), what + ": rate %s vs %s" % (g["rate_per_s"], len(members) / span))
        check(g["first"] == min(e["timestamp"] for e in members), what + ": first")
        check(g["last"] == max(e["timestamp"] for e in members), what + ": last")
        outcomes = [o for o in (outcome(e) for e in members) if o is not None]
        want_rate = (sum(outcomes) / len(outcomes)) if outcomes else None
        check(close(g["success_rate"], want_rate), what + ": success rate %s vs %s" % (g["success_rate"], want_rate))
        if duration:
            values = sorted(e[duration] for e in members if isinstance(e.get(duration), (int, float))
                            and not isinstance(e.get(duration), bool))
            d = g["duration"]
            check(d["count"] == len(values), what + ": duration count")
            if values:
                check(close(d["avg"], sum(values) / len(values)), what + ": avg")
                for name, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
                    check(close(d[name], nearest_rank(values, p)), what + ": " + name)
                check(close(d["max"], values[-1]), what + ": max")
        if most_common:
            counts = {}
            for e in members:
                present, value = get_path(e, most_common)
                if present:
                    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                    counts[text] = counts.get(text, 0) + 1
            best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            check(g["most_common"]["count"] == best[1] and
                  json.dumps(g["most_common"]["value"], separators=(",", ":"), ensure_ascii=False) == best[0],
                  what + ": most common")


def compare_cost(ringtail, directory, events, label, args, predicate, by):
    kept = [e for e in events if predicate(e) and isinstance(e.get("cost_usd"), (int, float))]
    extra = ["--by", ",".join(by)] if by else []
    got = json.loads(run(ringtail, "report", directory, "--cost", *args, *extra, "--json").stdout,
                     parse_float=decimal.Decimal)
    # Exact decimal sums of the numbers as written in the lines, each rounded
    # (half to even) to 18 fractional digits as docs/QUERY.md says.
    unit = decimal.Decimal("1e-18")
    def amount(e):
        return decimal.Decimal(json.dumps(e["cost_usd"])).quantize(unit, rounding=decimal.ROUND_HALF_EVEN)
    exact = decimal.Context(prec=60)
    total = sum((amount(e) for e in kept), decimal.Decimal(0))
    tokens = sum(e.get("tokens", e.get("input_tokens", 0) + e.get("output_tokens", 0)) for e in kept)
    check(got["requests"] == len(kept), "%s: cost requests %d vs %d" % (label, got["requests"], len(kept)))
    check(exact.compare(decimal.Decimal(got["cost_usd"]), total) == 0,
          "%s: cost total %s vs %s" % (label, got["cost_usd"], total))
    check(got["tokens"] == tokens, "%s: tokens %s vs %s" % (label, got["tokens"], tokens))
    for g in got["groups"]:
        members = [e for e in kept if all(e.get(k) == g["key"][k] for k in by)]
        want = sum((amount(e) for e in members), decimal.Decimal(0))
        check(g["requests"] == len(members), "%s: cost group %s requests" % (label, g["key"]))
        check(exact.compare(decimal.Decimal(g["cost_usd"]), want) == 0,
              "%s: cost group %s: %s vs %s" % (label, g["key"], g["cost_usd"], want))
        if members:
            average = (want / len(members)).quantize(unit, rounding=decimal.ROUND_HALF_UP)
            check(exact.compare(decimal.Decimal(g["average_cost_usd"]), average) == 0,
                  "%s: cost group %s average: %s vs %s" % (label, g["key"], g["average_cost_usd"], average))


def check_everything(ringtail, directory, events, label):
    since = timestamp(BASE_NS + 30 * 10**9)
    until = timestamp(BASE_NS + 60 * 10**9)
    compare_query(ringtail, directory, events, label, ["--where", "allow=false"], lambda e: e.get("allow") is False)
    compare_query(ringtail, directory, events, label, ["--level", "WARN", "--since", since, "--until", until],
                  lambda e: LEVELS.index(e["level"]) >= 3 and since <= e["timestamp"] < until)
    compare_query(ringtail, directory, events, label, ["--message", "tool.call", "--where", "duration_ms>100"],
                  lambda e: e["message"] == "tool.call" and e["duration_ms"] > 100,
                  fields=["timestamp", "tool", "duration_ms"])
    compare_query(ringtail, directory, events, label, ["--where", "tool~^web", "--service", "planner"],
                  lambda e: str(e.get("tool", "")).startswith("web") and e["service"] == "planner", limit=7)
    compare_query(ringtail, directory, events, label, ["--where", "code=18446744073709551615"],
                  lambda e: e.get("code") == 18446744073709551615)
    compare_query(ringtail, directory, events, label, ["--where", "error.type exists", "--where", "code!=404"],
                  lambda e: "error" in e and e.get("code") != 404)
    compare_stats(ringtail, directory, events, label, [], lambda e: True, ["agent_id"])
    compare_stats(ringtail, directory, events, label, ["--message", "tool.call"], lambda e: e["message"] == "tool.call",
                  ["tool"], duration="duration_ms")
    compare_stats(ringtail, directory, events, label, ["--message", "memory.op"], lambda e: e["message"] == "memory.op",
                  ["user_id"], most_common="operation")
    compare_stats(ringtail, directory, events, label, ["--where", "allow=false"], lambda e: e.get("allow") is False, [])
    compare_stats(ringtail, directory, events, label, ["--message", "span.end"], lambda e: e["message"] == "span.end",
                  ["span"], duration="duration_ms")
    compare_stats(ringtail, directory, events, label, ["--level", "ERROR"], lambda e: LEVELS.index(e["level"]) >= 4,
                  ["code", "service"])
    compare_stats(ringtail, directory, events, label,
                  ["--message", "memory.op", "--where", "operation=RECALL", "--where", "status=FAILURE",
                   "--where", "user_id=u3"],
                  lambda e: e["message"] == "memory.op" and e["operation"] == "RECALL" and e["status"] == "FAILURE"
                  and e["user_id"] == "u3", [])
    compare_cost(ringtail, directory, events, label, [], lambda e: True, [])
    compare_cost(ringtail, directory, events, label, ["--service", "agent"], lambda e: e["service"] == "agent",
                 ["model"])
    # CSV: the same rows as JSONL with --fields.
    out = run(ringtail, "query", directory, "--message", "cost", "--fields", "timestamp,model,tokens",
              "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    want = sorted((e for e in events if e["message"] == "cost"), key=lambda e: e["timestamp"])
    check(rows[0] == ["timestamp", "model", "tokens"], label + ": csv header")
    check(sorted(rows[1:]) == sorted([[e["timestamp"], e["model"], str(e["tokens"])] for e in want]), label + ": csv rows")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ringtail", required=True)
    parser.add_argument("--keep", help="leave the data in this directory")
    args = parser.parse_args()
    if shutil.which("zstd") is None:
        print("zstd CLI not found: skipped")
        return 0
    rng = random.Random(20261130)
    events = make_events(rng)
    root = args.keep or tempfile.mkdtemp(prefix="ringtail-answers-")
    try:
        plain = os.path.join(root, "plain")
        shutil.rmtree(plain, ignore_errors=True)
        paths = write_store(plain, events, rng)
        check_everything(args.ringtail, plain, events, "plain")

        # The same data compressed (closed files only; indexes dropped: rebuilt from the .zst).
        compressed = os.path.join(root, "compressed")
        shutil.rmtree(compressed, ignore_errors=True)
        shutil.copytree(plain, compressed)
        for dirpath, _, files in os.walk(compressed):
            for name in files:
                path = os.path.join(dirpath, name)
                if name.endswith(".index.json"):
                    os.remove(path)
                elif name.endswith(".jsonl") and not name.endswith("-open.jsonl"):
                    subprocess.run(["zstd", "-q", "--rm", path], check=True)
        check_everything(args.ringtail, compressed, events, "compressed")

        # A corrupt index is rebuilt, never trusted: the answers stay the same.
        for dirpath, _, files in os.walk(compressed):
            for name in files:
                if name.endswith(".index.json"):
                    with open(os.path.join(dirpath, name), "w") as f:
                        f.write('{"version":1,"data_file":"x","lines":0}')
        check_everything(args.ringtail, compressed, events, "corrupt indexes")

        # Damage: a corrupt .zst and a truncated last line are reported; the rest is answered.
        damaged = os.path.join(root, "damaged")
        shutil.rmtree(damaged, ignore_errors=True)
        shutil.copytree(compressed, damaged)
        zst = sorted(os.path.join(d, n) for d, _, fs in os.walk(damaged) for n in fs if n.endswith(".jsonl.zst"))
        victim = zst[0]
        with open(victim, "r+b") as f:
            f.seek(os.path.getsize(victim) // 2)
            f.write(b"\xde\xad\xbe\xef" * 8)
        plain_closed = sorted(os.path.join(d, n) for d, _, fs in os.walk(plain) for n in fs
                              if n.endswith(".jsonl") and not n.endswith("-open.jsonl"))
        truncated_source = plain_closed[-1]
        relative = os.path.relpath(truncated_source, plain)
        truncated = os.path.join(damaged, relative)
        with open(truncated_source, encoding="utf-8") as f:
            text = f.read()
        for name in os.listdir(os.path.dirname(truncated)):
            if name.startswith(os.path.basename(truncated)):
                os.remove(os.path.join(os.path.dirname(truncated), name))
        with open(truncated, "w", encoding="utf-8") as f:
            f.write(text[:-20])  # the last line loses its end
        result = run(args.ringtail, "query", damaged, "--where", "seq exists")
        lines = result.stdout.splitlines()
        check(victim.split("/")[-1] in result.stderr, "damaged: the corrupt .zst is not reported: " + result.stderr)
        check("cut short" in result.stderr, "damaged: the truncated line is not reported: " + result.stderr)
        check(0 < len(lines) < len(events), "damaged: %d lines of %d" % (len(lines), len(events)))
        for line in lines:
            json.loads(line)
        check(run(args.ringtail, "stats", damaged, "--json").returncode == 0, "damaged: stats answers")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if FAILURES:
        print("%d checks failed" % len(FAILURES), file=sys.stderr)
        return 1
    print("all answers agree (%d events)" % len(events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
