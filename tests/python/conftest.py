"""Shared helpers of the Python producer's tests.

Every test runs its producers as separate processes (a script written to a
temporary file, so that multiprocessing's "spawn" can import it), drains
them with a real `ringtail drain --once --pid ...` process and parses the
JSON lines it wrote. The test process itself never imports ringtail.

Environment: PYTHONPATH names the build's python/ folder (where the ringtail
package and its native module are), RINGTAIL_BIN the ringtail tool.
"""

import glob
import json
import os
import subprocess
import sys
import textwrap
from typing import NamedTuple

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def ringtail_bin():
    path = os.environ.get("RINGTAIL_BIN")
    if path:
        return path
    path = os.path.join(REPO, "build", "tools", "ringtail")
    if os.access(path, os.X_OK):
        return path
    raise RuntimeError("set RINGTAIL_BIN to the ringtail tool (ctest does), or build it in build/")


def _reject_constant(name):
    raise ValueError(f"not JSON: bare {name}")


def parse_line(raw):
    """One output line (bytes, without its newline) as a dict: strict UTF-8 and strict JSON
    (no bare NaN/Infinity, no raw control characters, an object)."""
    text = raw.decode("utf-8")  # strict: raises on ill-formed UTF-8
    value = json.loads(text, parse_constant=_reject_constant)
    assert isinstance(value, dict), raw
    return value


def decompressed(path):
    """The bytes of an output file, decompressed when it is a .zst."""
    if path.endswith(".zst"):
        try:
            import zstandard  # noqa: F401

            with open(path, "rb") as f:
                return zstandard.ZstdDecompressor().stream_reader(f).read()
        except ImportError:
            return subprocess.run(["zstd", "-dc", "-q", path], check=True, capture_output=True).stdout
    with open(path, "rb") as f:
        return f.read()


def jsonl_files(out_dir):
    """The event files under out_dir: *.jsonl.zst and *.jsonl (an open file whose .zst is not there)."""
    found = []
    for root, dirs, files in os.walk(out_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .checkpoints and the like
        for name in files:
            path = os.path.join(root, name)
            if name.endswith(".jsonl.zst"):
                found.append(path)
            elif name.endswith(".jsonl") and not os.path.exists(path + ".zst"):
                found.append(path)
    return sorted(found)


def all_output_bytes(out_dir):
    """(path, bytes) of every file under out_dir, .zst ones decompressed, hidden ones included."""
    result = []
    for root, _, files in os.walk(out_dir):
        for name in files:
            path = os.path.join(root, name)
            try:
                result.append((path, decompressed(path)))
            except (subprocess.CalledProcessError, OSError):
                with open(path, "rb") as f:
                    result.append((path, f.read()))
    return result


def read_lines(out_dir):
    """Every line of every event file: (parsed lines, raw lines), in file order."""
    lines, raws = [], []
    for path in jsonl_files(out_dir):
        data = decompressed(path)
        if not data:
            continue
        assert data.endswith(b"\n"), f"{path}: last line without its newline"
        for raw in data[:-1].split(b"\n"):
            lines.append(parse_line(raw))
            raws.append(raw)
    return lines, raws


def events(lines):
    """The event lines (those with "seq"), sorted by (pid, tid, seq)."""
    return sorted((l for l in lines if "seq" in l), key=lambda l: (l["pid"], l["tid"], l["seq"]))


def by_message(lines, message):
    return [l for l in lines if l.get("message") == message]


def one(lines, message):
    found = by_message(lines, message)
    assert len(found) == 1, (message, found)
    return found[0]


def span_lines(lines, kind, name=None):
    return [l for l in lines if l.get("message") == kind and "seq" not in l and (name is None or l.get("span") == name)]


class Producer(NamedTuple):
    pid: int
    returncode: int
    stderr: str
    stdout: str


def _clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGTAIL_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        env.update(extra)
    return env


def segments_of(pid):
    return glob.glob(f"/dev/shm/ringtail.{pid}.*")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Harness:
    """What a test uses: producers, the drain and the output directory."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.out_dir = str(tmp_path / "out")
        self.pids = set()
        self.live = []
        self._scripts = 0
        self.last_drain_stderr = ""

    def track(self, *pids):
        """Pids whose segments the teardown removes if a test left them (forked children)."""
        self.pids.update(int(p) for p in pids)

    def script(self, code):
        self._scripts += 1
        path = self.tmp / f"producer{self._scripts}.py"
        path.write_text(textwrap.dedent(code))
        return str(path)

    def run_producer(self, code, env=None, timeout=60, args=()):
        """Runs `code` (dedented) as a Python script to its end: Producer(pid, returncode, stderr, stdout)."""
        path = self.script(code)
        proc = subprocess.Popen(
            [sys.executable, path, *args],
            env=_clean_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(self.tmp),
        )
        self.track(proc.pid)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            raise AssertionError(f"producer timed out; stderr: {stderr.decode(errors='replace')}")
        return Producer(proc.pid, proc.returncode, stderr.decode(errors="replace"), stdout.decode(errors="replace"))

    def start_producer(self, code, env=None):
        """Starts `code` as a script and returns the Popen (text mode, stdout piped)."""
        path = self.script(code)
        proc = subprocess.Popen(
            [sys.executable, path],
            env=_clean_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=str(self.tmp),
        )
        self.track(proc.pid)
        self.live.append(proc)
        return proc

    def run_ok(self, code, env=None, timeout=60):
        """run_producer that asserts a zero exit status; returns the Producer."""
        p = self.run_producer(code, env=env, timeout=timeout)
        assert p.returncode == 0, f"producer failed ({p.returncode}):\n{p.stderr}\n{p.stdout}"
        return p

    def drain(self, pids, extra_args=(), check_removed=True):
        """`ringtail drain --once --pid ... -o OUT`, then every line stored under OUT for these
        pids (all files, every line strictly parsed), ordered by timestamp (stable)."""
        pids = [int(p) for p in pids]
        self.track(*pids)
        cmd = [ringtail_bin(), "drain", "--once", "-o", self.out_dir, "--no-retention"]
        for pid in pids:
            cmd += ["--pid", str(pid)]
        cmd += list(extra_args)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.last_drain_stderr = done.stderr
        assert done.returncode == 0, f"drain failed ({done.returncode}): {done.stderr}"
        if check_removed:
            for pid in pids:
                if not _alive(pid):
                    assert segments_of(pid) == [], f"drain left the segment of exited producer {pid}"
        lines, _ = read_lines(self.out_dir)
        wanted = set(pids)
        lines = [l for l in lines if l.get("pid") in wanted]
        lines.sort(key=lambda l: l["timestamp"])
        return lines

    def raw_lines(self):
        return read_lines(self.out_dir)[1]

    def cleanup(self):
        for proc in self.live:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.communicate(timeout=10)
            except Exception:
                pass
        for pid in self.pids:
            if _alive(pid):
                continue
            for path in segments_of(pid):
                try:
                    os.unlink(path)
                except OSError:
                    pass


@pytest.fixture
def rt(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.cleanup()


@pytest.fixture
def out_dir(rt):
    return rt.out_dir


@pytest.fixture
def run_producer(rt):
    return rt.run_producer


@pytest.fixture
def drain(rt):
    return rt.drain


def stdout_json(producer):
    """The last stdout line of a producer, as JSON (what it reports about itself)."""
    lines = [l for l in producer.stdout.splitlines() if l.strip()]
    assert lines, f"producer printed nothing; stderr: {producer.stderr}"
    return json.loads(lines[-1])

