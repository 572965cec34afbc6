#!/usr/bin/env python3
"""A test collector for the HTTP sink: Python's http.server on a free
loopback port, recording what it accepts.

  http_receiver.py --port-file F --out F [--fail N] [--status 500|429]
                   [--retry-after S] [--hang]

Prints nothing; writes the port it listens on to --port-file once it
listens. Each POST it accepts (answered 200) is appended to --out as one
JSON object per line: path, content_type, authorization, body. --fail N
answers the first N POSTs with --status (default 500; with --retry-after S
a Retry-After header) and records them as {"refused": true}. --hang reads
requests and never answers. Stops on SIGTERM.
"""

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fail", type=int, default=0)
    parser.add_argument("--status", type=int, default=500)
    parser.add_argument("--retry-after", type=int, default=-1)
    parser.add_argument("--hang", action="store_true")
    args = parser.parse_args()
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
            record({
                "path": self.path,
                "content_type": self.headers.get("Content-Type", ""),
                "authorization": self.headers.get("Authorization", ""),
                "body": body.decode("utf-8"),
            })
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
