#!/usr/bin/env python3
"""A test collector for the HTTP and OTLP sinks: Python's http.server on a
free loopback port, recording what it accepts.

  http_receiver.py --port-file F --out F [--fail N] [--status 500|429]
                   [--retry-after S] [--hang] [--otlp-proto-dir DIR]

Prints nothing; writes the port it listens on to --port-file once it
listens. Each POST it accepts (answered 200) is appended to --out as one
JSON object per line: path, content_type, authorization, body. --fail N
answers the first N POSTs with --status (default 500; with --retry-after S
a Retry-After header) and records them as {"refused": true}. --hang reads
requests and never answers. Stops on SIGTERM.

With --otlp-proto-dir (the opentelemetry-proto definitions), bodies are OTLP
export requests: the receiver compiles the definitions with protoc, decodes
each body by its path (/v1/logs, /v1/traces) and Content-Type (protobuf, or
the OTLP JSON mapping, whose hex trace and span ids it turns into bytes),
and records the request as "otlp" (MessageToDict, ids as lowercase hex)
instead of "body". A body that does not decode is answered 400 and recorded
as {"undecodable": why}.
"""

import argparse
import base64
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


ID_KEYS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}


def otlp_decoder(proto_dir):
    """decode(path, content_type, body) -> dict, from the compiled definitions."""
    out_dir = tempfile.mkdtemp(prefix="otlp-proto-")
    protos = []
    for root, _, files in os.walk(os.path.join(proto_dir, "opentelemetry")):
        protos += [os.path.relpath(os.path.join(root, f), proto_dir) for f in files if f.endswith(".proto")]
    subprocess.run(["protoc", "--proto_path=" + proto_dir, "--python_out=" + out_dir] + sorted(protos), check=True)
    sys.path.insert(0, out_dir)
    from google.protobuf import json_format  # pylint: disable=import-outside-toplevel
    logs = importlib.import_module("opentelemetry.proto.collector.logs.v1.logs_service_pb2")
    traces = importlib.import_module("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    kinds = {"/v1/logs": logs.ExportLogsServiceRequest, "/v1/traces": traces.ExportTraceServiceRequest}

    def ids_to_base64(node):  # OTLP JSON writes ids in hex; protobuf's JSON reads base64
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ID_KEYS:
                    raw = bytes.fromhex(value)
                    if len(raw) != ID_KEYS[key] or value != value.lower():
                        raise ValueError(f"{key} {value!r} is not {2 * ID_KEYS[key]} lowercase hex digits")
                    node[key] = base64.b64encode(raw).decode()
                else:
                    ids_to_base64(value)
        elif isinstance(node, list):
            for item in node:
                ids_to_base64(item)

    def ids_to_hex(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ID_KEYS:
                    node[key] = base64.b64decode(value).hex()
                else:
                    ids_to_hex(value)
        elif isinstance(node, list):
            for item in node:
                ids_to_hex(item)

    def decode(path, content_type, body):
        kind = next((k for suffix, k in kinds.items() if path.endswith(suffix)), None)
        if kind is None:
            raise ValueError(f"not an OTLP path: {path}")
        message = kind()
        if content_type == "application/x-protobuf":
            message.ParseFromString(body)
        elif content_type == "application/json":
            tree = json.loads(body.decode("utf-8"))
            ids_to_base64(tree)
            json_format.ParseDict(tree, message)
        else:
            raise ValueError(f"Content-Type {content_type!r}")
        tree = json_format.MessageToDict(message)
        ids_to_hex(tree)
        return tree

    return decode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fail", type=int, default=0)
    parser.add_argument("--status", type=int, default=500)
    parser.add_argument("--retry-after", type=int, default=-1)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--otlp-proto-dir")
    args = parser.parse_args()
    decode = otlp_decoder(args.otlp_proto_dir) if args.otlp_proto_dir else None
    lock = threading.Lock()
    state = {"posts": 0}

    def record(entry):
        with lock:
            with open(args.out, "a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if args.hang:
                threading.Event().wait()  # never answers: the client's timeout is what is tested
                return
            with lock:
                state["posts"] += 1
                refuse = state["posts"] <= args.fail
            if refuse:
                record({"refused": True})
                self.send_response(args.status)
                if args.retry_after >= 0:
                    self.send_header("Retry-After", str(args.retry_after))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            entry = {
                "path": self.path,
                "content_type": self.headers.get("Content-Type", ""),
                "authorization": self.headers.get("Authorization", ""),
            }
            if decode is None:
                entry["body"] = body.decode("utf-8")
            else:
                try:
                    entry["otlp"] = decode(self.path, entry["content_type"], body)
                except Exception as error:  # pylint: disable=broad-except
                    record({"undecodable": f"{self.path}: {error}"})
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            record(entry)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
