#!/usr/bin/env python3
"""ClickHouse benchmark: what one drain inserts, what a row costs on disk, and
`stats --engine` against `stats DIR` over the same events.

It starts its own clickhouse-server (Debian's, in the foreground, on free
loopback ports, data in a temporary directory) and ringtail-loadgen producers
(3-field INFO events: thread_index, i, a --string-bytes payload), then:

  ingest   loadgen fills rings that hold all --ingest-events, exits, and one
           `ringtail drain --once --out DIR --sink clickhouse://...` drains
           them (store and ClickHouse). Rows/s = rows ClickHouse then holds
           (count() FINAL) / the drain's wall time (it exits only once the
           sink has inserted its queue). Rows the sink's queue turned away
           (it is best-effort: a drain never waits for ClickHouse) are
           reported, not hidden. The same drain to the store alone runs
           first, for the comparison.
  disk     after OPTIMIZE TABLE ... FINAL, system.parts' compressed bytes per
           row, beside the JSONL bytes per event and the store's zstd bytes
           per event (level 1, the drain's default): for the loadgen events,
           and for examples/agent_sim's (4 workers x --agent-steps steps:
           tool steps, policy checks, LLM calls with costs, memory
           operations, errors and spans), less repetitive.
  stats    --stats-events events are produced at --rate (paced, so the
           sink keeps up and ClickHouse holds every one), drained with
           --follow into a store and the table; then each question runs as
           `ringtail stats DIR ...` and `ringtail stats --engine URI ...`,
           best of --repeat, answers checked equal, and the ratio printed.

  python3 bench/clickhouse_bench.py [--build build] [--ingest-events 2000000]
                                    [--stats-events 10000000] [--rate 250000] [--agent-steps 8000]
                                    [--repeat 3] [--skip ingest,stats]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SERVER = "/usr/sbin/clickhouse-server"
CLIENT = "/usr/bin/clickhouse-client"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A clickhouse-server of this script's own, stopped by close()."""

    def __init__(self, root):
        self.http_port, self.tcp_port = free_port(), free_port()
        for sub in ("data", "tmp", "user_files", "format_schemas"):
            os.makedirs(os.path.join(root, sub))
        with open(os.path.join(root, "users.xml"), "w") as f:
            f.write("<?xml version=\"1.0\"?>\n<yandex><profiles><default/></profiles><users><default><password>"
                    "</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default"
                    "</quota></default></users><quotas><default/></quotas></yandex>\n")
        with open(os.path.join(root, "config.xml"), "w") as f:
            f.write(f"<?xml version=\"1.0\"?>\n<yandex><logger><level>warning</level><console>1</console></logger>"
                    f"<http_port>{self.http_port}</http_port><tcp_port>{self.tcp_port}</tcp_port>"
                    f"<listen_host>127.0.0.1</listen_host><path>{root}/data/</path><tmp_path>{root}/tmp/</tmp_path>"
                    f"<user_files_path>{root}/user_files/</user_files_path>"
                    f"<format_schema_path>{root}/format_schemas/</format_schema_path>"
                    f"<users_config>{root}/users.xml</users_config><mark_cache_size>268435456</mark_cache_size>"
                    f"</yandex>\n")
        self.log = open(os.path.join(root, "server.log"), "wb")
        self.proc = subprocess.Popen([SERVER, f"--config-file={root}/config.xml"], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.query("SELECT 1")
                return
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        sys.exit("clickhouse-server did not start (see its log)")

    def query(self, sql):
        return subprocess.run([CLIENT, "--port", str(self.tcp_port), "--query", sql], check=True,
                              capture_output=True, text=True).stdout

    def uri(self, database):
        return f"clickhouse://127.0.0.1:{self.http_port}/{database}"

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


def loadgen(args, events_per_thread, extra=(), env=None):
    argv = [os.path.join(args.build, "tools", "ringtail-loadgen"), "--threads", str(args.threads), "--events",
            str(events_per_thread), "--string-bytes", str(args.string_bytes)] + list(extra)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, env=env)


def loadgen_result(gen):
    out, _ = gen.communicate()
    if gen.returncode != 0:
        sys.exit(f"loadgen failed with status {gen.returncode}")
    return json.loads(out.decode().strip().splitlines()[-1])


def reap(proc):
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"ringtail drain exited with status {status}")
    return usage.ru_utime + usage.ru_stime


def store_bytes(root):
    """Lines and JSONL bytes of the store, and what they take compressed as the
    drain compresses closed files (zstd level 1, its default): a .zst's own
    size, a plain file's at `zstd -1`."""
    lines = plain = packed = 0
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith(".jsonl.zst"):
                text = subprocess.run(["zstd", "-dcq", path], check=True, capture_output=True).stdout
                packed += os.path.getsize(path)
            elif name.endswith(".jsonl"):
                with open(path, "rb") as f:
                    text = f.read()
                packed += len(subprocess.run(["zstd", "-1", "-c", path], check=True, capture_output=True).stdout)
            else:
                continue
            plain += len(text)
            lines += text.count(b"\n")
    return lines, plain, packed


def ingest(args, server, scratch):
    per_thread = args.ingest_events // args.threads
    ring = 1 << max(20, (per_thread * (64 + args.string_bytes) * 2 - 1).bit_length())
    env = dict(os.environ, RINGTAIL_RING_BYTES=str(ring))
    ringtail = os.path.join(args.build, "tools", "ringtail")
    results = {}
    for name, sink in (("store", []), ("store+clickhouse", ["--sink", server.uri("ingest")])):
        server.query("DROP TABLE IF EXISTS ingest.events")
        out = os.path.join(scratch, "ingest-" + name)
        stats = loadgen_result(loadgen(args, per_thread, env=env))
        if stats["dropped"]:
            sys.exit(f"loadgen dropped {stats['dropped']} events")
        start = time.monotonic()
        drain = subprocess.Popen([ringtail, "drain", "--once", "--out", out, "--pid",
                                  str(stats["pid"])] + sink, stdout=subprocess.DEVNULL)
        cpu = reap(drain)
        wall = time.monotonic() - start
        rows = int(server.query("SELECT count() FROM ingest.events FINAL")) if sink else 0
        results[name] = {"events": stats["committed"], "wall_s": wall, "cpu_s": cpu, "rows": rows, "dir": out}
    ch = results["store+clickhouse"]
    print(f"ingest: {ch['events']} events of {args.threads} threads, --string-bytes {args.string_bytes}")
    print(f"  drain --once to the store alone:        {results['store']['wall_s']:.2f} s wall, "
          f"{results['store']['cpu_s']:.2f} s CPU")
    print(f"  drain --once to the store + ClickHouse: {ch['wall_s']:.2f} s wall, {ch['cpu_s']:.2f} s CPU; "
          f"ClickHouse holds {ch['rows']} rows ({ch['events'] - ch['rows']} turned away by the sink's queue)")
    print(f"  rows/s into ClickHouse from one drain: {ch['rows'] / ch['wall_s']:.0f}")
    print_disk(server, "loadgen", "ingest", ch["dir"])


def print_disk(server, name, database, store):
    """Bytes per line on disk: ClickHouse after OPTIMIZE FINAL (per row it holds), the store's JSONL and its
    zstd (per line it holds)."""
    lines, plain, packed = store_bytes(store)
    server.query(f"OPTIMIZE TABLE {database}.events FINAL")
    compressed, uncompressed, part_rows = (int(x) for x in server.query(
        "SELECT sum(data_compressed_bytes), sum(data_uncompressed_bytes), sum(rows) FROM system.parts "
        f"WHERE database = '{database}' AND table = 'events' AND active").split())
    print(f"disk per line, {name}: ClickHouse {compressed / part_rows:.1f} B compressed "
          f"({uncompressed / part_rows:.1f} B uncompressed) over {part_rows} rows; JSONL {plain / lines:.1f} B and "
          f"the store's zstd -1 {packed / lines:.1f} B over {lines} lines")


def agent_disk(args, server, scratch):
    """The same bytes-per-event figures for examples/agent_sim's events (steps, policy checks, LLM calls,
    costs, memory operations, errors, spans): what an agent runtime logs, less repetitive than loadgen."""
    ringtail = os.path.join(args.build, "tools", "ringtail")
    out = os.path.join(scratch, "agent-store")
    env = dict(os.environ, RINGTAIL_RING_BYTES=str(1 << 28))
    sim = subprocess.Popen([os.path.join(args.build, "examples", "agent_sim"), "--workers", "4", "--steps",
                            str(args.agent_steps)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if sim.wait() != 0:
        sys.exit(f"agent_sim failed with status {sim.returncode}")
    drain = subprocess.Popen([ringtail, "drain", "--once", "--out", out, "--pid", str(sim.pid), "--sink",
                              server.uri("agent")], stdout=subprocess.DEVNULL)
    reap(drain)
    print_disk(server, "agent_sim", "agent", out)


def best_of(repeat, argv):
    best, answer = None, None
    for _ in range(repeat):
        start = time.monotonic()
        done = subprocess.run(argv, check=True, capture_output=True, text=True)
        elapsed = time.monotonic() - start
        if answer is not None and done.stdout != answer:
            sys.exit(f"{' '.join(argv)} gave different answers")
        answer = done.stdout
        best = elapsed if best is None else min(best, elapsed)
    return best, answer


def compare_stats(args, server, scratch):
    ringtail = os.path.join(args.build, "tools", "ringtail")
    out = os.path.join(scratch, "stats-store")
    per_thread = args.stats_events // args.threads
    gen = loadgen(args, per_thread, ["--rate", str(args.rate), "--retry-when-full"])
    drain = subprocess.Popen([ringtail, "drain", "--follow", "--out", out, "--pid", str(gen.pid), "--sink",
                              server.uri("fleet")], stdout=subprocess.DEVNULL)
    stats = loadgen_result(gen)
    drain.send_signal(signal.SIGTERM)
    reap(drain)
    rows = int(server.query("SELECT count() FROM fleet.events FINAL"))
    if rows != stats["committed"]:
        sys.exit(f"the table holds {rows} rows of {stats['committed']} events: lower --rate")
    uri = server.uri("fleet")
    print(f"stats over {rows} events (best of {args.repeat}), directory vs --engine:")
    for question in (["--json"], ["--by", "thread_index", "--json"],
                     ["--by", "thread_index", "--duration", "i", "--json"],
                     ["--where", "i>=1000", "--where", "i<2000", "--json"]):
        dir_s, dir_answer = best_of(args.repeat, [ringtail, "stats", out] + question)
        ch_s, ch_answer = best_of(args.repeat, [ringtail, "stats", "--engine", uri] + question)
        same = "same answer" if dir_answer == ch_answer else "DIFFERENT ANSWERS"
        print(f"  stats {' '.join(question):<44} DIR {dir_s:7.3f} s  --engine {ch_s:7.3f} s  "
              f"ratio {dir_s / ch_s:5.2f}x  ({same})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--string-bytes", type=int, default=16)
    parser.add_argument("--ingest-events", type=int, default=2_000_000)
    parser.add_argument("--stats-events", type=int, default=10_000_000)
    parser.add_argument("--rate", type=int, default=250_000, help="events/s of the paced stats load")
    parser.add_argument("--agent-steps", type=int, default=8_000, help="agent_sim steps per worker (4 workers)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated phases to skip: ingest, stats")
    args = parser.parse_args()
    for program in (SERVER, CLIENT):
        if not os.access(program, os.X_OK):
            parser.error(f"{program} is missing: run scripts/install-deps.sh")
    skip = set(filter(None, args.skip.split(",")))
    scratch = tempfile.mkdtemp(prefix="ringtail-clickhouse-bench-")
    server = Server(os.path.join(scratch, "server"))
    try:
        if "ingest" not in skip:
            ingest(args, server, scratch)
            agent_disk(args, server, scratch)
        if "stats" not in skip:
            compare_stats(args, server, scratch)
    finally:
        server.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
