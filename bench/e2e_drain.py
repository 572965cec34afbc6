#!/usr/bin/env python3
"""End-to-end reader benchmark: ringtail-loadgen producers -> `ringtail drain` -> JSONL on local disk.

Two scenarios, each run --repeat times (the median is reported):

  backlog  --producers loadgen processes fill their rings (sized to hold
           every event, so none drop) and exit; then one `ringtail drain
           --once` drains the finished segments. This is the reader alone:
           decode, merge, format, write (segments decoded in parallel when
           there are several).
  live     `ringtail drain --follow --pid` (loadgen's) runs while loadgen
           produces with --retry-when-full (nothing dropped); after loadgen
           exits the drain gets SIGTERM, drains what is left and exits.
           Producers and reader share the machine's cores.

Per run: events, wall seconds, reader CPU seconds (user + sys of every reader
thread, from wait4's rusage), events/s, JSONL MB/s, reader CPU-seconds per
million events, events per reader CPU-second (the "one core" rate), the
reader's peak RSS (the highest of the runs) and the largest file's JSONL bytes
(rotation). Every
run checks that the output holds exactly the events loadgen committed.

  python3 bench/e2e_drain.py [--build build] [--threads 2] [--events 1000000] [--producers 1]
                             [--decode-threads 0] [--repeat 3] [--sinks syslog,syslog-tcp,http,otlp]
                             [--scenarios backlog,live] [--json]

--sinks adds `--sink` destinations beside the store, each to a loopback
receiver of this script: the reader CPU per event with and without them is
what the exporters cost the drain.
"""

import argparse
import http.server
import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def count_lines(root):
    """Lines, JSONL bytes and the largest file's JSONL bytes of the data files under root (.zst decompressed)."""
    lines = 0
    size = 0
    largest = 0
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .checkpoints
        for name in files:
            if not (name.endswith(".jsonl") or name.endswith(".jsonl.zst")):
                continue  # indexes, the hash key
            path = os.path.join(dirpath, name)
            reader = subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE) if name.endswith(".zst") else None
            stream = reader.stdout if reader else open(path, "rb")
            file_bytes = 0
            with stream:
                while True:
                    block = stream.read(1 << 22)
                    if not block:
                        break
                    file_bytes += len(block)
                    lines += block.count(b"\n")
            if reader and reader.wait() != 0:
                sys.exit(f"zstd could not read {path}")
            size += file_bytes
            largest = max(largest, file_bytes)
    return lines, size, largest


def reap(proc):
    """Waits for proc; returns its CPU seconds (user + sys) and peak RSS in MB."""
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def loadgen_argv(args, service, retry):
    argv = [os.path.join(args.build, "tools", "ringtail-loadgen"), "--threads", str(args.threads), "--events",
            str(args.events), "--service", service]
    if retry:
        argv.append("--retry-when-full")
    return argv


class Receivers:
    """Loopback receivers for --sinks: a UDP socket nobody reads (the kernel
    takes each datagram and drops what overflows its buffer: the drain's
    sends cost what they would against a real syslog daemon), a TCP server
    that reads and discards, and an HTTP collector that reads every body and
    answers 200, on threads of this script (their CPU is not the reader's)."""

    def __init__(self, kinds):
        self.args = []
        self.udp = None
        self.tcp = None
        self.http = None
        if "syslog" in kinds:
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.args += ["--sink", f"syslog+udp://127.0.0.1:{self.udp.getsockname()[1]}"]
        if "syslog-tcp" in kinds:
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.bind(("127.0.0.1", 0))
            self.tcp.listen(4)

            def serve(listener):
                while True:
                    try:
                        conn, _ = listener.accept()
                    except OSError:
                        return
                    threading.Thread(target=lambda c=conn: [None for _ in iter(lambda: c.recv(1 << 20), b"")],
                                     daemon=True).start()

            threading.Thread(target=serve, args=(self.tcp,), daemon=True).start()
            self.args += ["--sink", f"syslog+tcp://127.0.0.1:{self.tcp.getsockname()[1]}"]
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        if "http" in kinds or "otlp" in kinds:
            # One collector for both: it reads every body and answers 200, whatever the path.
            self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self.http.daemon_threads = True
            threading.Thread(target=self.http.serve_forever, daemon=True).start()
        if "http" in kinds:
            self.args += ["--sink", f"http://127.0.0.1:{self.http.server_address[1]}/ingest"]
        if "otlp" in kinds:
            self.args += ["--sink", f"otlp+http://127.0.0.1:{self.http.server_address[1]}"]

    def close(self):
        if self.udp:
            self.udp.close()
        if self.tcp:
            self.tcp.close()
        if self.http:
            self.http.shutdown()


SINK_LINE = re.compile(r"^sink (\S+): (\d+) lines sent(?:, (\d+) dropped)?")


def sink_counts(stdout):
    """Lines sent and dropped, summed over the sinks, from the drain's summary."""
    sent = dropped = 0
    for line in stdout.splitlines():
        m = SINK_LINE.match(line)
        if m:
            sent += int(m.group(2))
            dropped += int(m.group(3) or 0)
    return sent, dropped


def backlog_run(args, out_dir, sink_args):
    service = "e2e-backlog"
    # Rings that hold every event of a thread (records are 64 bytes; a power of two).
    ring = 1 << max(20, (args.events * 64 * 2 - 1).bit_length())
    env = dict(os.environ, RINGTAIL_RING_BYTES=str(ring))
    gens = [subprocess.Popen(loadgen_argv(args, service, False), env=env, stdout=subprocess.PIPE)
            for _ in range(args.producers)]
    committed = 0
    pids = []
    for gen in gens:
        out, _ = gen.communicate()
        if gen.returncode != 0:
            sys.exit(f"loadgen failed with status {gen.returncode}")
        stats = json.loads(out.decode().strip().splitlines()[-1])
        if stats["dropped"] != 0:
            sys.exit(f"loadgen dropped {stats['dropped']} events with {ring}-byte rings")
        committed += stats["committed"]
        pids += ["--pid", str(stats["pid"])]
    start = time.monotonic()
    with tempfile.TemporaryFile() as summary:
        proc = subprocess.Popen([os.path.join(args.build, "tools", "ringtail"), "drain", "--once", "--out", out_dir,
                                 "--decode-threads", str(args.decode_threads)] + pids + sink_args, stdout=summary)
        cpu, rss = reap(proc)
        wall = time.monotonic() - start
        summary.seek(0)
        sent, dropped = sink_counts(summary.read().decode())
    return committed, wall, cpu, rss, sent, dropped


def live_run(args, out_dir, sink_args):
    service = "e2e-live"
    ringtail = os.path.join(args.build, "tools", "ringtail")
    start = time.monotonic()
    # Loadgen first, so that the drain can be limited to its pid: a drain of
    # every segment would also consume other programs' (a test suite's).
    gen = subprocess.Popen(loadgen_argv(args, service, True), stdout=subprocess.PIPE)
    summary = tempfile.TemporaryFile()
    drain = subprocess.Popen([ringtail, "drain", "--follow", "--out", out_dir, "--pid", str(gen.pid)] + sink_args,
                             stdout=summary)
    out, _ = gen.communicate()
    if gen.returncode != 0:
        drain.kill()
        sys.exit(f"loadgen failed with status {gen.returncode}")
    stats = json.loads(out.decode().strip().splitlines()[-1])
    drain.send_signal(signal.SIGTERM)
    cpu, rss = reap(drain)
    wall = time.monotonic() - start
    summary.seek(0)
    sent, dropped = sink_counts(summary.read().decode())
    summary.close()
    return stats["committed"], wall, cpu, rss, sent, dropped


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="build directory holding tools/ (default: build)")
    parser.add_argument("--threads", type=int, default=2, help="loadgen threads (default: 2)")
    parser.add_argument("--events", type=int, default=1_000_000, help="events per thread (default: 1000000)")
    parser.add_argument("--producers", type=int, default=1,
                        help="backlog: loadgen processes, drained together (default: 1)")
    parser.add_argument("--decode-threads", type=int, default=0,
                        help="ringtail drain --decode-threads (default: 0, the drain's own default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario; the median is reported")
    parser.add_argument("--out", default=None, help="scratch directory for the JSONL (default: a temporary one)")
    parser.add_argument("--sinks", default="",
                        help="also drain to these sinks, comma-separated: syslog (UDP), syslog-tcp, http (NDJSON "
                             "POSTs), otlp (OTLP/HTTP protobuf), "
                             "each to a loopback receiver of this script (default: the store alone)")
    parser.add_argument("--scenarios", default="backlog,live", help="comma-separated (default: backlog,live)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    kinds = [k for k in args.sinks.split(",") if k]
    if any(k not in ("syslog", "syslog-tcp", "http", "otlp") for k in kinds):
        parser.error("--sinks takes syslog, syslog-tcp, http and otlp")
    scenarios = [k for k in args.scenarios.split(",") if k]
    if not scenarios or any(k not in ("backlog", "live") for k in scenarios):
        parser.error("--scenarios takes backlog and live")
    for tool in ("ringtail", "ringtail-loadgen"):
        if not os.access(os.path.join(args.build, "tools", tool), os.X_OK):
            parser.error(f"{args.build}/tools/{tool} not found: build first (cmake --build {args.build})")
    if args.threads < 1 or args.events < 1 or args.repeat < 1 or args.producers < 1:
        parser.error("--threads, --events, --producers and --repeat must be at least 1")
    if args.decode_threads < 0:
        parser.error("--decode-threads must be at least 0")

    scratch = args.out or tempfile.mkdtemp(prefix="ringtail-e2e-")
    results = {}
    receivers = Receivers(kinds)
    # With --sinks each scenario runs twice per repetition, alternated: the
    # store alone, then the store and the sinks.
    variants = [("", [])] + ([("+sinks", receivers.args)] if kinds else [])
    try:
        for name, run in (("backlog", backlog_run), ("live", live_run)):
            if name not in scenarios:
                continue
            runs = {suffix: [] for suffix, _ in variants}
            for _ in range(args.repeat):
                for suffix, sink_args in variants:
                    out_dir = os.path.join(scratch, name)
                    shutil.rmtree(out_dir, ignore_errors=True)
                    committed, wall, cpu, rss, sent, dropped = run(args, out_dir, sink_args)
                    lines, size, largest = count_lines(out_dir)
                    if lines != committed:
                        sys.exit(f"{name}: {committed} events committed but {lines} lines written")
                    runs[suffix].append({"events": committed, "wall_s": wall, "reader_cpu_s": cpu, "bytes": size,
                                         "max_rss_mb": rss, "largest_file_bytes": largest,
                                         "sink_lines_sent": sent, "sink_lines_dropped": dropped})
            for suffix, _ in variants:
                results[name + suffix] = summarize(runs[suffix])
            if kinds:
                alone, both = results[name], results[name + "+sinks"]
                if both["sink_lines_sent"]:
                    both["sink_cpu_us_per_line_sent"] = round(
                        (both["reader_cpu_s"] - alone["reader_cpu_s"]) / both["sink_lines_sent"] * 1e6, 3)
    finally:
        receivers.close()
        if args.out is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print_results(args, kinds, results)


def summarize(runs):
    median = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
    return {
        "events": median["events"],
        "wall_s": round(median["wall_s"], 3),
        "reader_cpu_s": round(median["reader_cpu_s"], 3),
        "events_per_s": round(median["events"] / median["wall_s"]),
        "json_mb_per_s": round(median["bytes"] / median["wall_s"] / 1e6, 1),
        "reader_cpu_s_per_million": round(median["reader_cpu_s"] / median["events"] * 1e6, 3),
        "events_per_reader_cpu_s": round(median["events"] / median["reader_cpu_s"]),
        "bytes": median["bytes"],
        "reader_max_rss_mb": round(max(r["max_rss_mb"] for r in runs), 1),
        "largest_file_mb": round(max(r["largest_file_bytes"] for r in runs) / 1e6, 1),
        "wall_s_all_runs": [round(r["wall_s"], 3) for r in runs],
        "sink_lines_sent": median["sink_lines_sent"],
        "sink_lines_dropped": median["sink_lines_dropped"],
    }


def print_results(args, kinds, results):
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{args.threads} loadgen threads x {args.events} events ({args.producers} loadgen process(es) in backlog), "
          f"3-field event, median of {args.repeat}, sinks: store{''.join(', ' + k for k in kinds)}")
    print(f"{'scenario':<13} {'events':>10} {'wall s':>7} {'reader CPU s':>12} {'events/s':>10} {'JSON MB/s':>9} "
          f"{'CPU s/M ev':>10} {'ev/CPU s':>10} {'max RSS MB':>10} {'largest file MB':>15}")
    for name, r in results.items():
        print(f"{name:<13} {r['events']:>10} {r['wall_s']:>7.3f} {r['reader_cpu_s']:>12.3f} {r['events_per_s']:>10} "
              f"{r['json_mb_per_s']:>9.1f} {r['reader_cpu_s_per_million']:>10.3f} {r['events_per_reader_cpu_s']:>10} "
              f"{r['reader_max_rss_mb']:>10.1f} {r['largest_file_mb']:>15.1f}")
    for name, r in results.items():
        if name.endswith("+sinks"):
            print(f"{name}: sinks sent {r['sink_lines_sent']} lines, dropped {r['sink_lines_dropped']} (queue full); "
                  f"reader CPU beyond the store: {r.get('sink_cpu_us_per_line_sent', 0):.3f} us per line sent")


if __name__ == "__main__":
    main()
