#!/usr/bin/env python3
"""Python producer benchmark: what a logging call costs the calling thread, and
how fast the reader drains Python producers next to C++ ones.

Part 1, producer cost per call. One process runs every subject, --repeat times,
interleaved (round r runs each subject once, so they share the machine's
noise), each run timing --events calls with time.perf_counter_ns around the
whole loop (a warm-up of --events/10 calls first). The event is the one of
bench/README.md: "tool call" with step_id (an int changing every call), tool
= "write_file" and duration_ms = 1.5.

  ringtail.info           ringtail.info("tool call", step_id=i, tool="write_file", duration_ms=1.5)
  ringtail.debug (off)    the same as ringtail.debug while the level is info: the disabled cost
  logging+JSON            logger.info("tool call", extra={...}) through a FileHandler whose
                          logging.Formatter subclass json.dumps time (ISO 8601, UTC), level,
                          message and the extra fields
  structlog+JSON          log.info("tool call", step_id=i, ...) with add_log_level,
                          TimeStamper(fmt="iso"), JSONRenderer() into WriteLoggerFactory(file=f)
                          (make_filtering_bound_logger(INFO), a bound logger: structlog's fast path)
  print(json.dumps)       print(json.dumps({"time": time.time(), "level": "info", "message": ..., fields}), file=f)
                          (a buffered file: no flush per line, unlike the two above)
  logging->ringtail       the logging.info call above with ringtail.LoggingHandler as the
                          logger's only handler (the one-line switch)
  structlog->ringtail     the structlog call above with ringtail.StructlogProcessor() in place of
                          JSONRenderer (add_log_level and TimeStamper kept)

The files are in a temporary directory. The ringtail subjects write into this
process's 64 MiB ring (bigger when --events asks for it), which no reader
drains while a run is timed: between runs (never during one) `ringtail drain
--once --pid <this pid>` empties it into a temporary store. After every run
ringtail.loss_counters() must be all zero, and at the end the store must hold
exactly one line per committed event: the script fails otherwise.

Part 2, the reader on Python and C++ producers (skipped with --no-drain).
`ringtail-loadgen --threads 1 --events M --string-bytes 10` logs M events
RINGTAIL_INFO("loadgen", thread_index, i, payload) with a 10-byte payload into
a ring that holds them all (RINGTAIL_RING_BYTES) and exits; a Python process
(this script, --produce-child) logs the same events, ringtail.info("loadgen",
thread_index=0, i=i, payload="abcdefghij"), as fast as it can into a ring of
the same size, checks loss_counters() and exits. Both have the same service
name, so their lines differ only in pid, tid and timestamps. Then `ringtail
drain --once --pid PID --out DIR` is timed over the producer's segment. Drain
events/s = lines stored / the drain's wall time (each run's line count must
equal the producer's committed count), events per drain CPU-second = lines /
the drain's user + sys time (wait4; the steadier figure on a busy machine);
the run of median wall time of --drain-repeat runs, alternating the two
producers.

  /usr/bin/python3 bench/python_bench.py [--build build] [--events 200000] [--repeat 5]
                                         [--drain-events 2000000] [--drain-repeat 3] [--no-drain]
                                         [--ringtail-bin PATH] [--loadgen-bin PATH] [--json]

The script needs structlog and the build's ringtail package (<build>/python):
it puts that on sys.path itself, and re-executes itself under /usr/bin/python3
when the interpreter it was started with has no structlog.
"""

import argparse
import datetime
import gc
import glob
import json
import logging
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_PYTHON = "/usr/bin/python3"
REEXEC_MARK = "RINGTAIL_PYTHON_BENCH_REEXEC"
MESSAGE = "tool call"
DRAIN_SERVICE = "python_bench_drain"
TOOL = "write_file"


def build_dir(build):
    """--build: relative to the working directory if it is there, else to the repository."""
    if os.path.isabs(build) or os.path.isdir(build):
        return os.path.abspath(build)
    return os.path.join(REPO, build)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="build directory (default: build): <build>/python is "
                        "the package, <build>/tools the reader and ringtail-loadgen")
    parser.add_argument("--ringtail-bin", default=None,
                        help="the reader (default: $RINGTAIL_BIN, else <build>/tools/ringtail)")
    parser.add_argument("--loadgen-bin", default=None,
                        help="part 2's C++ producer (default: ringtail-loadgen beside the reader)")
    parser.add_argument("--events", type=int, default=200_000, help="calls per timed run (default: 200000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per subject; the median is reported")
    parser.add_argument("--drain-events", type=int, default=2_000_000,
                        help="part 2: events of each producer (default: 2000000)")
    parser.add_argument("--drain-repeat", type=int, default=5, help="part 2: runs per producer (default: 5)")
    parser.add_argument("--no-drain", action="store_true", help="skip part 2")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON object")
    parser.add_argument("--produce-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child-ring-bytes", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.events < 1 or args.repeat < 1 or args.drain_events < 1 or args.drain_repeat < 1:
        parser.error("--events, --repeat, --drain-events and --drain-repeat must be at least 1")
    args.build = build_dir(args.build)
    if args.ringtail_bin is None:
        args.ringtail_bin = os.environ.get("RINGTAIL_BIN") or os.path.join(args.build, "tools", "ringtail")
    if args.loadgen_bin is None:
        args.loadgen_bin = os.path.join(os.path.dirname(os.path.abspath(args.ringtail_bin)), "ringtail-loadgen")
    return args


def ensure_interpreter(args):
    """Puts <build>/python first on sys.path; re-executes under /usr/bin/python3 if structlog is missing."""
    package = os.path.join(args.build, "python")
    sys.path.insert(0, package)
    os.environ["PYTHONPATH"] = package + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH")
                                          else "")
    if args.produce_child is not None:
        return
    try:
        import structlog  # noqa: F401
    except ImportError:
        if os.environ.get(REEXEC_MARK) or not os.access(SYSTEM_PYTHON, os.X_OK):
            sys.exit(f"python_bench: {sys.executable} has no structlog (pip install structlog, or run "
                     f"{SYSTEM_PYTHON})")
        os.environ[REEXEC_MARK] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


def ring_bytes_for(events, record_bytes):
    """A power of two holding `events` records of up to record_bytes, at least 64 MiB."""
    return 1 << max(26, (events * record_bytes - 1).bit_length())


def check_losses(ringtail, where):
    lost = {k: v for k, v in ringtail.loss_counters().items() if v}
    if lost:
        sys.exit(f"python_bench: events were lost ({where}): {lost}")


def count_store(root, message=None):
    """Lines of the JSONL files under root (.zst decompressed), those of them with this message, and bytes."""
    lines = matching = size = 0
    needle = None if message is None else ('"message":' + json.dumps(message)).encode()
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith(".jsonl.zst"):
                data = subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True).stdout
            elif name.endswith(".jsonl"):
                with open(path, "rb") as f:
                    data = f.read()
            else:
                continue
            lines += data.count(b"\n")
            size += len(data)
            if needle is not None:
                matching += sum(1 for line in data.splitlines() if needle in line)
    return lines, matching, size


def drain_once(ringtail_bin, pid, out_dir):
    """`ringtail drain --once --pid PID --out DIR`: wall seconds and the reader's CPU seconds."""
    start = time.monotonic()
    proc = subprocess.Popen([ringtail_bin, "drain", "--once", "--pid", str(pid), "--out", out_dir],
                            stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if status != 0:
        sys.exit(f"python_bench: ringtail drain --once --pid {pid} failed (wait status {status})")
    return wall, usage.ru_utime + usage.ru_stime


# --- Part 1: the subjects ---------------------------------------------------------------------------------------

_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime",
                                                                                            "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, message and the extra= fields (python-json-logger's shape)."""

    def format(self, record):
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES:
                entry[key] = value
        return json.dumps(entry)


class Subjects:
    """Each subject is a function (n) -> nanoseconds for n calls, written as user code would write the call."""

    def __init__(self, ringtail, structlog, scratch):
        self.files = []
        # logging with a JSON formatter, to a file.
        self.json_logger = logging.getLogger("bench.json")
        self.json_logger.propagate = False
        self.json_logger.setLevel(logging.INFO)
        handler = logging.FileHandler(os.path.join(scratch, "logging.jsonl"))
        handler.setFormatter(JsonFormatter())
        self.json_logger.addHandler(handler)
        self.handlers = [handler]
        # logging into ringtail: the same logger setup with ringtail's handler.
        self.rt_logger = logging.getLogger("bench.ringtail")
        self.rt_logger.propagate = False
        self.rt_logger.setLevel(logging.INFO)
        self.rt_logger.addHandler(ringtail.LoggingHandler())
        # structlog with JSONRenderer, to a file.
        sl_file = open(os.path.join(scratch, "structlog.jsonl"), "w")
        self.files.append(sl_file)
        self.sl_json = structlog.wrap_logger(
            structlog.WriteLoggerFactory(file=sl_file)(),
            processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                        structlog.processors.JSONRenderer()],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO)).bind()
        # structlog into ringtail: JSONRenderer replaced by ringtail's processor.
        self.sl_rt = structlog.wrap_logger(
            structlog.ReturnLoggerFactory()(),
            processors=[structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso"),
                        ringtail.StructlogProcessor()],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO)).bind()
        # print(json.dumps(...)) to a file.
        self.print_file = open(os.path.join(scratch, "print.jsonl"), "w")
        self.files.append(self.print_file)
        self.ringtail = ringtail

    def close(self):
        for handler in self.handlers:
            handler.close()
        for f in self.files:
            f.close()

    # One loop per subject, written out: a shared loop calling the subject
    # through a function or lambda would add that call to every timed event
    # (about as much as ringtail.info itself costs).
    def ringtail_info(self, n):
        ringtail = self.ringtail
        start = time.perf_counter_ns()
        for i in range(n):
            ringtail.info("tool call", step_id=i, tool="write_file", duration_ms=1.5)
        return time.perf_counter_ns() - start

    def ringtail_debug_off(self, n):
        ringtail = self.ringtail
        start = time.perf_counter_ns()
        for i in range(n):
            ringtail.debug("tool call", step_id=i, tool="write_file", duration_ms=1.5)
        return time.perf_counter_ns() - start

    def logging_json(self, n):
        logger = self.json_logger
        start = time.perf_counter_ns()
        for i in range(n):
            logger.info("tool call", extra={"step_id": i, "tool": "write_file", "duration_ms": 1.5})
        return time.perf_counter_ns() - start

    def structlog_json(self, n):
        log = self.sl_json
        start = time.perf_counter_ns()
        for i in range(n):
            log.info("tool call", step_id=i, tool="write_file", duration_ms=1.5)
        return time.perf_counter_ns() - start

    def print_json(self, n):
        f = self.print_file
        start = time.perf_counter_ns()
        for i in range(n):
            print(json.dumps({"time": time.time(), "level": "info", "message": "tool call", "step_id": i,
                              "tool": "write_file", "duration_ms": 1.5}), file=f)
        return time.perf_counter_ns() - start

    def logging_ringtail(self, n):
        logger = self.rt_logger
        start = time.perf_counter_ns()
        for i in range(n):
            logger.info("tool call", extra={"step_id": i, "tool": "write_file", "duration_ms": 1.5})
        return time.perf_counter_ns() - start

    def structlog_ringtail(self, n):
        log = self.sl_rt
        start = time.perf_counter_ns()
        for i in range(n):
            log.info("tool call", step_id=i, tool="write_file", duration_ms=1.5)
        return time.perf_counter_ns() - start

    def empty_loop(self, n):
        start = time.perf_counter_ns()
        for i in range(n):
            pass
        return time.perf_counter_ns() - start


# name, method, writes ringtail events (the store must then hold them)
SUBJECTS = [
    ("ringtail.info", "ringtail_info", True),
    ("ringtail.debug (off)", "ringtail_debug_off", False),
    ("logging+JSON", "logging_json", False),
    ("structlog+JSON", "structlog_json", False),
    ("print(json.dumps)", "print_json", False),
    ("logging->ringtail", "logging_ringtail", True),
    ("structlog->ringtail", "structlog_ringtail", True),
]


def producer_cost(args, scratch):
    import ringtail
    import structlog

    ring = ring_bytes_for(args.events + args.events // 10, 256)
    ringtail.init(service="python_bench", level="info", ring_bytes=ring, inherit=False)
    segment = ringtail.segment_name()
    store = os.path.join(scratch, "store")
    subjects = Subjects(ringtail, structlog, scratch)
    committed = 0
    samples = {name: [] for name, _, _ in SUBJECTS}
    loop_ns = []
    done = False
    try:
        warm = max(1, args.events // 10)
        for name, method, writes in SUBJECTS:
            getattr(subjects, method)(warm)
            check_losses(ringtail, f"{name}, warm-up")
            if writes:
                committed += warm
                drain_once(args.ringtail_bin, os.getpid(), store)
        for _ in range(args.repeat):
            loop_ns.append(subjects.empty_loop(args.events))
            for name, method, writes in SUBJECTS:
                gc.collect()
                ns = getattr(subjects, method)(args.events)
                check_losses(ringtail, name)
                samples[name].append(ns / args.events)
                if writes:
                    committed += args.events
                    drain_once(args.ringtail_bin, os.getpid(), store)  # between runs, never during one
        done = True
    finally:
        subjects.close()
        ringtail.shutdown()
        if done:
            drain_once(args.ringtail_bin, os.getpid(), store)
        for path in glob.glob(f"/dev/shm/{segment}"):  # a live process's segment stays after its drain
            os.unlink(path)
    _, stored, _ = count_store(store, MESSAGE)
    if stored != committed:
        sys.exit(f"python_bench: {committed} ringtail events written but {stored} stored")
    info = statistics.median(samples["ringtail.info"])
    rows = []
    for name, _, _ in SUBJECTS:
        median = statistics.median(samples[name])
        rows.append({"subject": name, "ns_per_call": round(median, 1), "vs_ringtail_info": round(median / info, 2),
                     "runs_ns_per_call": [round(s, 1) for s in samples[name]]})
    return {"events_per_run": args.events, "repeat": args.repeat, "ring_bytes": ring,
            "empty_loop_ns_per_iteration": round(statistics.median(loop_ns) / args.events, 1),
            "ringtail_events_stored": stored, "subjects": rows}


# --- Part 2: the reader on Python and C++ producers ---------------------------------------------------------------

def produce_child(args):
    """--produce-child M: M events as fast as this process can, into one ring that holds them all; one JSON line."""
    import ringtail

    ringtail.init(service=DRAIN_SERVICE, level="info", ring_bytes=args.child_ring_bytes, inherit=False)
    info = ringtail.info
    payload = "abcdefghij"  # ringtail-loadgen's --string-bytes 10
    start = time.perf_counter()
    committed = 0
    for i in range(args.produce_child):
        committed += info("loadgen", thread_index=0, i=i, payload=payload)
    seconds = time.perf_counter() - start
    lost = {k: v for k, v in ringtail.loss_counters().items() if v}
    ringtail.shutdown()
    print(json.dumps({"pid": os.getpid(), "committed": committed, "lost": lost, "seconds": seconds}))
    return 0 if committed == args.produce_child and not lost else 1


def remove_segments(pid):
    for path in glob.glob(f"/dev/shm/ringtail.{pid}.*"):
        os.unlink(path)


def run_producer(argv, env):
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    if proc.returncode != 0:
        remove_segments(proc.pid)
        sys.exit(f"python_bench: {shlex.join(argv)} failed ({proc.returncode}): {out}{err}")
    return json.loads(out.strip().splitlines()[-1])


def drain_rates(args, scratch):
    ring = ring_bytes_for(args.drain_events, 128)
    producers = {
        "python": ([sys.executable, os.path.abspath(__file__), "--build", args.build, "--produce-child",
                    str(args.drain_events), "--child-ring-bytes", str(ring)], dict(os.environ)),
        "c++": ([args.loadgen_bin, "--threads", "1", "--events", str(args.drain_events), "--string-bytes", "10",
                 "--service", DRAIN_SERVICE], dict(os.environ, RINGTAIL_RING_BYTES=str(ring))),
    }
    runs = {name: [] for name in producers}
    for _ in range(args.drain_repeat):
        for name, (argv, env) in producers.items():
            stats = run_producer(argv, env)
            out = os.path.join(scratch, f"drain-{name}")
            try:
                if stats.get("dropped") or stats.get("lost") or stats["committed"] != args.drain_events:
                    sys.exit(f"python_bench: the {name} producer lost events: {stats}")
                shutil.rmtree(out, ignore_errors=True)
                wall, cpu = drain_once(args.ringtail_bin, stats["pid"], out)
                lines, _, size = count_store(out)
                if lines != stats["committed"]:
                    sys.exit(f"python_bench: the {name} producer committed {stats['committed']} events, "
                             f"the drain stored {lines} lines")
                if glob.glob(f"/dev/shm/ringtail.{stats['pid']}.*"):
                    sys.exit(f"python_bench: the drain left the {name} producer's segment in /dev/shm")
            finally:
                remove_segments(stats["pid"])  # only after a failure: a drained finished segment is removed
            runs[name].append({"wall_s": wall, "cpu_s": cpu, "lines": lines, "bytes": size,
                               "producer_events_per_s": stats["committed"] / stats["seconds"]})
            shutil.rmtree(out, ignore_errors=True)
    result = {"events": args.drain_events, "repeat": args.drain_repeat, "ring_bytes": ring}
    for name, rs in runs.items():
        median = sorted(rs, key=lambda r: r["wall_s"])[len(rs) // 2]
        result[name] = {
            "drain_wall_s": round(median["wall_s"], 3),
            "drain_cpu_s": round(median["cpu_s"], 3),
            "drain_events_per_s": round(median["lines"] / median["wall_s"]),
            "json_bytes_per_line": round(median["bytes"] / median["lines"], 1),
            "events_per_drain_cpu_s": round(median["lines"] / median["cpu_s"]),
            "drain_wall_s_all_runs": [round(r["wall_s"], 3) for r in rs],
            "producer_events_per_s": round(statistics.median(r["producer_events_per_s"] for r in rs)),
        }
    result["python_vs_cpp_drain_rate"] = round(result["python"]["drain_events_per_s"] /
                                               result["c++"]["drain_events_per_s"], 3)
    result["python_vs_cpp_events_per_drain_cpu_s"] = round(result["python"]["events_per_drain_cpu_s"] /
                                                           result["c++"]["events_per_drain_cpu_s"], 3)
    return result


# --- Output -----------------------------------------------------------------------------------------------------

def print_results(command, cost, drain):
    print(f"command: {command}")
    print(f"python {sys.version.split()[0]} ({sys.executable}), structlog {structlog_version()}, "
          f"{os.cpu_count()} CPUs")
    print()
    print(f"Part 1: producer cost per call, median of {cost['repeat']} runs of {cost['events_per_run']} calls "
          f"(interleaved); ring {cost['ring_bytes'] >> 20} MiB, drained between runs only; "
          f"{cost['ringtail_events_stored']} ringtail events stored, none lost; "
          f"empty loop {cost['empty_loop_ns_per_iteration']} ns/iteration (included below)")
    print(f"{'subject':<22} {'ns/call':>9} {'vs ringtail.info':>17}   runs (ns/call)")
    for row in cost["subjects"]:
        runs = " ".join(f"{s:.0f}" for s in row["runs_ns_per_call"])
        print(f"{row['subject']:<22} {row['ns_per_call']:>9.1f} {row['vs_ringtail_info']:>16.2f}x   {runs}")
    for row in cost["subjects"]:
        if row["subject"] != "ringtail.info":
            ratio = row["vs_ringtail_info"]
            print(f"  {row['subject']} is {ratio:.{2 if ratio < 10 else 1}f}x ringtail.info")
    if drain is None:
        return
    print()
    print(f"Part 2: `ringtail drain --once --pid PID` over one producer's segment of {drain['events']} "
          f"events \"loadgen\" (thread_index, i, 10-byte payload; all in one {drain['ring_bytes'] >> 20} MiB ring), "
          f"median of {drain['repeat']}")
    print(f"{'producer':<10} {'drain wall s':>12} {'drain CPU s':>11} {'drain events/s':>15} "
          f"{'events/drain CPU s':>18} {'JSON B/line':>11} {'producer events/s':>18}   drain wall s, all runs")
    for name in ("python", "c++"):
        r = drain[name]
        runs = " ".join(f"{s:.3f}" for s in r["drain_wall_s_all_runs"])
        print(f"{name:<10} {r['drain_wall_s']:>12.3f} {r['drain_cpu_s']:>11.3f} {r['drain_events_per_s']:>15} "
              f"{r['events_per_drain_cpu_s']:>18} {r['json_bytes_per_line']:>11.1f} {r['producer_events_per_s']:>18}"
              f"   {runs}")
    print(f"  the drain's rate on the Python producer is {drain['python_vs_cpp_drain_rate']:.2f}x its rate on "
          f"ringtail-loadgen (wall); per drain CPU-second {drain['python_vs_cpp_events_per_drain_cpu_s']:.2f}x")


def structlog_version():
    try:
        import importlib.metadata
        return importlib.metadata.version("structlog")
    except Exception:  # noqa: BLE001: only for the header
        return "?"


def main():
    args = parse_args(sys.argv[1:])
    ensure_interpreter(args)
    if args.produce_child is not None:
        return produce_child(args)
    for tool in [args.ringtail_bin] + ([] if args.no_drain else [args.loadgen_bin]):
        if not os.access(tool, os.X_OK):
            sys.exit(f"python_bench: {tool} not found: build first (cmake --build {args.build})")
    if not glob.glob(os.path.join(args.build, "python", "ringtail", "_ringtail*.so")):
        sys.exit(f"python_bench: no native module under {args.build}/python/ringtail: build first")
    command = shlex.join([sys.executable] + [os.path.relpath(os.path.abspath(__file__))] + sys.argv[1:])
    scratch = tempfile.mkdtemp(prefix="ringtail-python-bench-")
    try:
        cost = producer_cost(args, scratch)
        drain = None if args.no_drain else drain_rates(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_results(command, cost, drain)
    if args.json:
        print(json.dumps({"command": command, "producer_cost": cost, "drain": drain}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
