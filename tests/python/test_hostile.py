"""Hostile strings, redaction canaries and the call-site budget."""

import base64

from conftest import all_output_bytes, by_message, events, one, span_lines, stdout_json

REDACTED = "***REDACTED***"

HOSTILE = r'''
import json, ringtail
ringtail.init(service="hostile", ring_bytes=4 << 20, max_string_bytes=2 << 20)
controls = "".join(chr(c) for c in range(32)) + "\x7f"
big = ("0123456789abcdef\u00e9\"\\\n" * 60000)[: 1 << 20]
ok = [
    ringtail.info("controls", s=controls, quotes='"\'"', backslashes="\\ \\\\ \\u0041 \\n", mixed='a"b\\c\nd\te'),
    ringtail.info("surrogates", a="\ud800", b="x\udc00\ud800y", c="\ud83d\ude00", d="ok\U0001f600"),
    ringtail.info("big", s=big, n=len(big)),
    ringtail.info("keys", **{"we\"ird\nkey": 1, "back\\slash": 2, "tab\tkey": 3, "": 4, "\u00e9t\u00e9": 5,
                             "{\"json\":1}": 6}),
    ringtail.info('{"level":"CRITICAL","message":"forged","seq":0}', x=1),
    ringtail.info("message with\nnewline \"quotes\" and \\ backslash \x01", x=2),
    ringtail.info("reserved", level="fake", message="m2", seq=5, _cut=1, timestamp="t", pid=0, _pid=1,
                  service="s", tid=3),
    ringtail.info("json value", v='{"a": [1, 2, {"b": null}]}', nul="\x00", ddel="\x7f"),
]
print(json.dumps({"ok": ok, "big": big, "controls": controls}))
'''


def test_hostile_strings(rt):
    p = rt.run_ok(HOSTILE)
    r = stdout_json(p)
    assert all(r["ok"]), r["ok"]
    evs = events(rt.drain([p.pid]))
    raws = rt.raw_lines()
    for raw in raws:
        assert b"\n" not in raw and b"\r" not in raw  # one line per event, no raw control bytes
        assert all(b >= 0x20 for b in raw), raw[:200]

    c = one(evs, "controls")
    assert c["s"] == r["controls"]
    assert c["quotes"] == '"\'"' and c["backslashes"] == "\\ \\\\ \\u0041 \\n" and c["mixed"] == 'a"b\\c\nd\te'

    s = one(evs, "surrogates")
    for key in "abc":
        s[key].encode("utf-8")  # well-formed text, whatever stands in for the surrogate
    assert s["b"].startswith("x") and s["b"].endswith("y")
    s["c"].encode("utf-8")  # a surrogate pair given as two code points: still two lone surrogates
    assert s["d"] == "ok\U0001f600"

    big = one(evs, "big")
    assert big["s"] == r["big"] and big["n"] == len(r["big"]) and "_cut" not in big

    keys = one(evs, "keys")
    for key, value in [("we\"ird\nkey", 1), ("back\\slash", 2), ("tab\tkey", 3), ("", 4), ("\u00e9t\u00e9", 5),
                       ("{\"json\":1}", 6)]:
        assert keys[key] == value, key

    forged = one(evs, '{"level":"CRITICAL","message":"forged","seq":0}')
    assert forged["level"] == "INFO" and forged["x"] == 1 and forged["service"] == "hostile"
    assert one(evs, "message with\nnewline \"quotes\" and \\ backslash \x01")["x"] == 2

    res = one(evs, "reserved")
    assert res["level"] == "INFO" and res["message"] == "reserved" and res["pid"] == p.pid
    assert res["_level"] == "fake" and res["_message"] == "m2" and res["_seq"] == 5
    assert res["__cut"] == 1 and res["_timestamp"] == "t" and res["_service"] == "s" and res["_tid"] == 3
    assert res["_pid"] == 0 and res["__pid"] == 1

    jv = one(evs, "json value")
    assert jv["v"] == '{"a": [1, 2, {"b": null}]}' and jv["nul"] == "\x00" and jv["ddel"] == "\x7f"


# Canaries: every one of them must be missing from every byte the drain wrote.
BASIC = base64.b64encode(b"CANARY-basic-user:pw").decode()
CANARY_PRODUCER = r'''
import datetime, json, logging, structlog, ringtail
ringtail.init(service="canary", level="debug")

# Secret keys, from the event's own fields.
ringtail.info("login", password="CANARY-pw-1", api_key="CANARY-apikey-1", authorization="CANARY-authz-1",
              token="CANARY-token-1", client_secret="CANARY-secret-1", accessToken="CANARY-at-1",
              Cookie="CANARY-cookie-1", private_key="CANARY-pk-1", session_token="CANARY-st-1",
              credentials="CANARY-cred-1", jwt="CANARY-jwt-1", pwd="CANARY-pwd-1", user="VISIBLE-user-1",
              **{"x-api-key": "CANARY-xapi-1", "Proxy-Authorization": "CANARY-proxy-1"})
# Secret-looking values under ordinary keys.
ringtail.info("values", header="Bearer CANARY-bearer-1", basic="Basic BASIC_CANARY",
              url="postgres://app:CANARY-url-1@db.internal:5432/prod",
              pem="-----BEGIN RSA PRIVATE KEY-----\nCANARY-pem-1\n-----END RSA PRIVATE KEY-----",
              note="VISIBLE-note-1")
# Secret keys whose values are not strings.
ringtail.info("typed secrets", password=12345678, token=None, secret=b"CANARY-bytes-1",
              auth=ValueError("CANARY-autherr-1"))

# From context() and span attributes (and a span name).
with ringtail.context(sessionToken="CANARY-ctx-1", upstream="https://svc:CANARY-ctx-url@up/x"):
    with ringtail.span("fetch Bearer CANARY-spanname-1", clientSecret="CANARY-span-1",
                       auth_header="Bearer CANARY-span-2") as s:
        ringtail.info("in context", n=1)
        try:
            raise PermissionError("denied for Bearer CANARY-exc-1")
        except PermissionError as e:
            ringtail.error("exception message", error=e)
            s.fail(ValueError("span failed with postgres://u:CANARY-spanerr-1@h/db"))

# From logging (extra= and %-args).
log = logging.getLogger("canary")
log.addHandler(ringtail.LoggingHandler())
log.setLevel(logging.DEBUG)
log.info("logging extra", extra={"password": "CANARY-log-pw", "auth_header": "Bearer CANARY-log-bearer"})
log.info("connecting to %s", "mysql://root:CANARY-log-url@db/x")
try:
    raise RuntimeError("token Bearer CANARY-log-exc")
except RuntimeError:
    log.exception("logging exception")

# From structlog (bound, contextvars and call keys).
structlog.configure(processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                                ringtail.StructlogProcessor()])
structlog.contextvars.bind_contextvars(refresh_token="CANARY-sl-ctx")
slog = structlog.get_logger().bind(api_key="CANARY-sl-bound")
slog.info("structlog event", password="CANARY-sl-pw", note="Bearer CANARY-sl-bearer")

# The breakglass token is never written, only its keyed hash.
ringtail.agent.breakglass("alice", "incident 7", datetime.datetime(2030, 1, 1), "CANARY-bg-token",
                          ["v1"], ["BLOCK"])
print(json.dumps({"done": True}))
'''.replace("BASIC_CANARY", BASIC)


def test_redaction_canaries(rt):
    p = rt.run_ok(CANARY_PRODUCER)
    assert stdout_json(p)["done"] and p.stderr == "", p.stderr
    lines = rt.drain([p.pid])
    evs = events(lines)
    everything = all_output_bytes(rt.out_dir)
    assert everything
    blob = b"\n".join(data for _, data in everything)
    # The grep sees the output: what is not secret is there.
    for visible in (b"VISIBLE-user-1", b"VISIBLE-note-1"):
        assert visible in blob
    for path, data in everything:
        assert b"CANARY" not in data, (path, data[data.find(b"CANARY") - 200: data.find(b"CANARY") + 100])
        assert BASIC.encode() not in data, path
        assert b"Q0FOQVJZ" not in data, path  # base64 of "CANARY"

    login = one(evs, "login")
    for key in ("password", "api_key", "authorization", "token", "client_secret", "accessToken", "Cookie",
                "private_key", "session_token", "credentials", "jwt", "pwd", "x-api-key", "Proxy-Authorization"):
        assert login[key] == REDACTED, key
    assert login["user"] == "VISIBLE-user-1"

    values = one(evs, "values")
    assert values["header"] == f"Bearer {REDACTED}"
    assert values["basic"] == f"Basic {REDACTED}"
    assert values["url"] == f"postgres://app:{REDACTED}@db.internal:5432/prod"
    assert values["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----") and REDACTED in values["pem"]
    assert values["note"] == "VISIBLE-note-1"

    typed = one(evs, "typed secrets")
    for key in ("password", "token", "secret", "auth"):
        assert typed[key] == REDACTED, key

    ctx = one(evs, "in context")
    assert ctx["sessionToken"] == REDACTED and ctx["upstream"] == f"https://svc:{REDACTED}@up/x"
    start = span_lines(lines, "span.start")
    assert len(start) == 1
    assert start[0]["clientSecret"] == REDACTED and start[0]["auth_header"] == REDACTED
    assert start[0]["span"] == f"fetch Bearer {REDACTED}"
    exc = one(evs, "exception message")
    assert exc["error"]["type"] == "PermissionError"
    assert exc["error"]["message"] == f"denied for Bearer {REDACTED}"
    end = span_lines(lines, "span.end")
    assert len(end) == 1 and end[0]["error"]["message"] == f"span failed with postgres://u:{REDACTED}@h/db"

    lx = one(evs, "logging extra")
    assert lx["password"] == REDACTED and lx["auth_header"] == REDACTED and lx["logger"] == "canary"
    assert one(evs, "connecting to %s")["text"] == f"connecting to mysql://root:{REDACTED}@db/x"
    lexc = one(evs, "logging exception")
    assert lexc["error"]["message"] == f"token Bearer {REDACTED}" and lexc["error"]["stack"]

    sl = one(evs, "structlog event")
    assert sl["password"] == REDACTED and sl["api_key"] == REDACTED and sl["refresh_token"] == REDACTED
    assert sl["note"] == f"Bearer {REDACTED}"

    bg = one(evs, "breakglass")
    assert bg["token_hash"].startswith("hmac:") and len(bg["token_hash"]) == len("hmac:") + 16
    assert "token" not in bg


def test_without_default_redaction_canaries_show(rt):
    """The control: with --no-default-redaction the same grep finds the canaries (the test above can fail)."""
    p = rt.run_ok(
        """
        import ringtail
        ringtail.init(service="plain")
        ringtail.info("login", password="CANARY-plain-pw", header="Bearer CANARY-plain-bearer")
        """
    )
    evs = events(rt.drain([p.pid], extra_args=["--no-default-redaction"]))
    login = one(evs, "login")
    assert login["password"] == "CANARY-plain-pw" and login["header"] == "Bearer CANARY-plain-bearer"
    assert any(b"CANARY-plain-pw" in data for _, data in all_output_bytes(rt.out_dir))


def test_callsite_budget(rt):
    total = 200
    p = rt.run_ok(
        f"""
        import json, ringtail
        ringtail.init(service="budget", max_callsites=64)
        ok = [ringtail.info(f"message number {{i}}", i=i) for i in range({total})]
        print(json.dumps({{"ok": ok, "sites": ringtail.site_counts(), "losses": ringtail.loss_counters()}}))
        """
    )
    r = stdout_json(p)
    assert all(r["ok"])
    assert all(v == 0 for v in r["losses"].values()), r["losses"]
    sites = r["sites"]
    budget = sites["budget"]
    assert budget == 64 // 2
    assert sites["sites"] == budget and sites["dynamic_sites"] == 1, sites
    assert p.stderr.count("python.dynamic") == 1, p.stderr  # warned once
    lines = rt.drain([p.pid])
    evs = events(lines)
    assert len(evs) == total
    assert not by_message(lines, "ringtail.lost") and not by_message(lines, "ringtail.dropped")
    for e in evs:
        i = e["i"]
        if i < budget:
            assert e["message"] == f"message number {i}" and "text" not in e, e
        else:
            assert e["message"] == "python.dynamic" and e["text"] == f"message number {i}", e
    assert [e["i"] for e in evs] == list(range(total))


def test_callsite_budget_constant_messages_reuse_sites(rt):
    """A constant message logged many times (with changing values) is one site, not one per call."""
    p = rt.run_ok(
        """
        import json, ringtail
        ringtail.init(service="budget", max_callsites=64)
        for i in range(500):
            ringtail.info("same message", i=i)
            ringtail.warn("same message", i=i)
            ringtail.info("same message", i=str(i))
            ringtail.info("same " + "message", i=i)  # built at run time: equal text, same site
        print(json.dumps(ringtail.site_counts()))
        """
    )
    sites = stdout_json(p)
    assert sites["sites"] == 3 and sites["dynamic_sites"] == 0, sites
    evs = events(rt.drain([p.pid]))
    assert len(evs) == 2000 and all(e["message"] == "same message" for e in evs)
    assert sum(1 for e in evs if e["level"] == "WARN") == 500


def test_breakglass_hash_matches_reader_hash(rt):
    """With one hash key, the producer's token_hash equals the reader's hash rule for the same string."""
    key_file = rt.tmp / "hash.key"
    key_file.write_bytes(b"0123456789abcdef0123456789abcdef")
    p = rt.run_ok(
        f"""
        import ringtail
        ringtail.init(service="hashes", hash_key=open({str(key_file)!r}, "rb").read())
        ringtail.agent.breakglass("bob", "drill", 1900000000, "tok-CANARY-A", "v1,v2", ["BLOCK", "WARN"])
        ringtail.agent.breakglass("bob", "drill", 1900000000, "tok-CANARY-B", "v1", "BLOCK")
        ringtail.info("fingerprints", fingerprint="tok-CANARY-A", other="tok-CANARY-B")
        """
    )
    evs = events(rt.drain([p.pid], extra_args=["--hash", "fingerprint", "--hash", "other",
                                                "--hash-key-file", str(key_file)]))
    bg = by_message(evs, "breakglass")
    assert len(bg) == 2 and bg[0]["affected_validators"] == "v1,v2" and bg[0]["affected_decisions"] == "BLOCK,WARN"
    fp = one(evs, "fingerprints")
    assert fp["fingerprint"].startswith("hmac:") and fp["fingerprint"] != fp["other"]
    assert bg[0]["token_hash"] == fp["fingerprint"] and bg[1]["token_hash"] == fp["other"]
    assert bg[0]["expires_at"] == "2030-03-17T17:46:40.000Z"
    assert not any(b"CANARY" in data for _, data in all_output_bytes(rt.out_dir))


def test_callsite_budget_logging_fstrings(rt):
    """logging with f-string messages past the budget: "python.dynamic", the text in "text"."""
    p = rt.run_ok(
        """
        import json, logging, ringtail
        ringtail.init(service="budget", max_callsites=16)
        log = logging.getLogger("fs")
        log.addHandler(ringtail.LoggingHandler())
        log.setLevel(logging.INFO)
        for i in range(40):
            log.info(f"user {i} logged in", extra={"i": i})
        print(json.dumps({"sites": ringtail.site_counts(), "losses": ringtail.loss_counters()}))
        """
    )
    r = stdout_json(p)
    assert all(v == 0 for v in r["losses"].values())
    budget = r["sites"]["budget"]
    assert budget == 8 and r["sites"]["sites"] == budget
    evs = events(rt.drain([p.pid]))
    assert [e["i"] for e in evs] == list(range(40))
    for e in evs:
        assert e["logger"] == "fs"
        if e["i"] < budget:
            assert e["message"] == f"user {e['i']} logged in" and "text" not in e
        else:
            assert e["message"] == "python.dynamic" and e["text"] == f"user {e['i']} logged in"


def test_lone_surrogates_in_messages_keys_and_names(rt):
    """A lone surrogate (a str that is not UTF-8) in a message, a key or a span name is as hostile
    as in a value: every API writes its event (valid JSON, text kept around the surrogate), none
    raises into the caller and logging reports no "Logging error"."""
    p = rt.run_producer(
        """
        import json, logging, structlog, ringtail
        ringtail.init(service="surrogates")
        bad = "\\ud800"
        failures = {}
        def attempt(name, f):
            try:
                f()
            except Exception as e:
                failures[name] = f"{type(e).__name__}: {e}"[:120]
        def in_context():
            with ringtail.context(**{"ctx" + bad + "key": 1}):
                ringtail.info("in context", path="context key")
        def in_span_attr():
            with ringtail.span("span attr", **{"attr" + bad: 1}):
                ringtail.info("in span", path="span attribute key")
        def in_span_name():
            with ringtail.span("span" + bad + "name"):
                ringtail.info("in span name", path="span name")
        attempt("info message", lambda: ringtail.info("info" + bad + "message", path="info message"))
        attempt("info key", lambda: ringtail.info("info key", path="info key", **{"k" + bad: 1}))
        attempt("context key", in_context)
        attempt("span attribute key", in_span_attr)
        attempt("span name", in_span_name)
        log = logging.getLogger("sur")
        log.addHandler(ringtail.LoggingHandler())
        log.setLevel(logging.INFO)
        attempt("logging message", lambda: log.info("logging" + bad + "message", extra={"path": "logging message"}))
        attempt("logging extra key", lambda: log.info("logging extra", extra={"path": "logging extra key",
                                                                              "x" + bad: 1}))
        structlog.configure(processors=[structlog.processors.add_log_level, ringtail.StructlogProcessor()])
        slog = structlog.get_logger()
        attempt("structlog event", lambda: slog.info("structlog" + bad + "event", path="structlog event"))
        attempt("structlog key", lambda: slog.info("structlog key", path="structlog key", **{"y" + bad: 1}))
        print(json.dumps(failures))
        """
    )
    assert p.returncode == 0, p.stderr
    failures = stdout_json(p)
    evs = events(rt.drain([p.pid]))
    written = {e.get("path") for e in evs}
    paths = ["info message", "info key", "context key", "span attribute key", "span name", "logging message",
             "logging extra key", "structlog event", "structlog key"]
    missing = [path for path in paths if path not in written]
    assert not failures and not missing and "Logging error" not in p.stderr, (
        f"raised: {failures}; not written: {missing}")
    for e in evs:
        if e["path"] == "info message":
            assert e["message"].startswith("info") and e["message"].endswith("message"), e["message"]
