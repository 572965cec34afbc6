"""Every Python value type, as the reader writes it to JSON (docs/FORMAT.md, "Event fields")."""

import base64
import datetime
import math
import re

from conftest import by_message, events, one, stdout_json

VALUES_PRODUCER = r'''
import datetime, json, sys
import ringtail

ringtail.init(service="values", max_string_bytes=64)

class Thing:
    def __repr__(self):
        return "<Thing 42 \"quoted\">"

class BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")

class MyError(Exception):
    pass

class Outer:
    class InnerError(Exception):
        pass

ok = {}
ok["bools"] = ringtail.info("bools", t=True, f=False)
ok["ints"] = ringtail.info(
    "ints", small=7, zero=0, neg=-3, i64max=2**63 - 1, i64min=-2**63, u64max=2**64 - 1,
    u64max_plus=2**64, i64min_minus=-2**63 - 1, huge=2**100, huge_neg=-(2**100), boolish=int(True))
ok["floats"] = ringtail.info(
    "floats", half=1.5, tenth=0.1, negzero=-0.0, whole=2.0, tiny=5e-324, large=1e300,
    nan=float("nan"), inf=float("inf"), ninf=float("-inf"))
ok["strs"] = ringtail.info(
    "strs", unicode="h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c \U0001f389", empty="", nul="a\x00b\x00",
    surrogate="x\ud800y", lone="\udfff")
ok["bytes"] = ringtail.info(
    "bytes", raw=b"\x00\xffbinary\n", empty=b"", array=bytearray(b"abc"))
ok["none"] = ringtail.info("none", nothing=None)
dt = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456)
aware = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
ok["times"] = ringtail.info(
    "times", dt=dt, aware=aware, date=datetime.date(2024, 1, 2), time=datetime.time(3, 4, 5, 600),
    td=datetime.timedelta(seconds=1.5), td_neg=datetime.timedelta(days=-1, microseconds=1),
    td_us=datetime.timedelta(microseconds=1), td_huge=datetime.timedelta(days=999999))
try:
    open("/nonexistent/x")
except OSError as e:
    os_error = e
try:
    json.loads("")
except ValueError as e:
    json_error = e
ok["errors"] = ringtail.info(
    "errors", value=ValueError("bad value"), mine=MyError("mine \"quoted\""), nested=Outer.InnerError("inner"),
    os=os_error, jsonerr=json_error, empty=KeyError())
ok["objects"] = ringtail.info(
    "objects", thing=Thing(), bad=BadRepr(), a_list=[1, "two", None], a_dict={"k": 1}, a_set=frozenset())
ok["cut"] = ringtail.info(
    "cut", long="x" * 100, exact="y" * 64, multibyte="a" + "\u00e9" * 50, short="z",
    err=ValueError("m" * 80))
fields32 = {f"f{i:02d}": i for i in range(32)}
ok["fields32"] = ringtail.info("fields32", **fields32)
raised = {}
try:
    ringtail.info("fields33", **{f"f{i:02d}": i for i in range(33)})
except ValueError as e:
    raised["fields33"] = str(e)
for name, call in [
    ("int_message", lambda: ringtail.info(42)),
    ("bytes_message", lambda: ringtail.info(b"msg")),
    ("none_message", lambda: ringtail.warn(None)),
    ("no_message", lambda: ringtail.info()),
    ("two_positional", lambda: ringtail.info("a", "b")),
    ("log_int_message", lambda: ringtail.log("info", 5)),
]:
    try:
        call()
    except TypeError as e:
        raised[name] = "TypeError"
    except Exception as e:
        raised[name] = type(e).__name__
try:
    ringtail.log("loud", "bad level")
except ValueError:
    raised["bad_level"] = "ValueError"
try:
    ringtail.audit("off", "bad level")
except ValueError:
    raised["audit_off"] = "ValueError"
ok["log_warn"] = ringtail.log("warn", "via log", n=1)
ok["log_trace"] = ringtail.log("trace", "filtered via log")
ok["debug"] = ringtail.debug("filtered debug")
ok["warning_alias"] = ringtail.warning("via warning")
ok["audit_info"] = ringtail.audit("info", "audit one", who="me")
ringtail.set_level("off")
ok["level_after_off"] = ringtail.level()
ok["enabled_critical_off"] = ringtail.enabled("critical")
ok["critical_off"] = ringtail.critical("off critical")
ok["audit_off"] = ringtail.audit("warn", "audit while off", who="you")
ringtail.set_level("info")
ok["after_on"] = ringtail.info("on again")
print(json.dumps({"ok": ok, "raised": raised, "os": [str(os_error), os_error.errno],
                  "json": str(json_error), "mine_mod": MyError.__module__}))
'''


def _produce(rt):
    p = rt.run_ok(VALUES_PRODUCER)
    report = stdout_json(p)
    lines = rt.drain([p.pid])
    return p, report, lines


def test_values_all_types(rt):
    p, report, lines = _produce(rt)
    evs = events(lines)
    assert all(l["pid"] == p.pid and l["service"] == "values" for l in evs)

    bools = one(evs, "bools")
    assert bools["t"] is True and bools["f"] is False

    ints = one(evs, "ints")
    assert ints["small"] == 7 and ints["zero"] == 0 and ints["neg"] == -3 and ints["boolish"] == 1
    for key, value in [("i64max", 2**63 - 1), ("i64min", -(2**63)), ("u64max", 2**64 - 1)]:
        assert type(ints[key]) is int and ints[key] == value, key
    for key, value in [("u64max_plus", 2**64), ("i64min_minus", -(2**63) - 1), ("huge", 2**100),
                       ("huge_neg", -(2**100))]:
        assert ints[key] == str(value), key

    floats = one(evs, "floats")
    assert floats["half"] == 1.5 and floats["tenth"] == 0.1 and floats["whole"] == 2
    assert floats["tiny"] == 5e-324 and floats["large"] == 1e300
    assert floats["nan"] == "NaN" and floats["inf"] == "Infinity" and floats["ninf"] == "-Infinity"
    raw = next(r for r in rt.raw_lines() if b'"message":"floats"' in r)
    assert b'"negzero":-0' in raw and b'"tenth":0.1,' in raw

    strs = one(evs, "strs")
    assert strs["unicode"] == "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c \U0001f389"
    assert strs["empty"] == "" and strs["nul"] == "a\x00b\x00"
    for key in ("surrogate", "lone"):
        # A lone surrogate cannot be UTF-8: whatever stands in for it, the value is
        # well-formed text (encodable as UTF-8), and the text around it is kept.
        strs[key].encode("utf-8")
    assert strs["surrogate"].startswith("x") and strs["surrogate"].endswith("y")
    assert len(strs["surrogate"]) > 2 and strs["lone"] != ""

    b = one(evs, "bytes")
    assert b["raw"] == base64.b64encode(b"\x00\xffbinary\n").decode()
    assert b["empty"] == "" and b["array"] == base64.b64encode(b"abc").decode()

    assert one(evs, "none")["nothing"] is None

    times = one(evs, "times")
    assert times["dt"] == datetime.datetime(2024, 5, 6, 7, 8, 9, 123456).isoformat()
    aware = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    assert times["aware"] == aware.isoformat() and times["aware"].endswith("+02:00")
    assert times["date"] == "2024-01-02" and times["time"] == datetime.time(3, 4, 5, 600).isoformat()
    assert times["td"] == 1_500_000_000 and type(times["td"]) is int
    assert times["td_neg"] == (-86400 * 10**6 + 1) * 1000
    assert times["td_us"] == 1000
    # Past +-292 years of nanoseconds a timedelta cannot be an i64 duration: its text.
    assert times["td_huge"] == str(datetime.timedelta(days=999999))

    errors = one(evs, "errors")
    assert errors["value"] == {"type": "ValueError", "message": "bad value"}
    assert errors["mine"] == {"type": f"{report['mine_mod']}.MyError", "message": 'mine "quoted"'}
    assert errors["nested"]["type"] == f"{report['mine_mod']}.Outer.InnerError"
    os_text, os_errno = report["os"]
    assert errors["os"] == {"type": "FileNotFoundError", "message": os_text, "code": os_errno}
    assert errors["jsonerr"]["type"] == "json.decoder.JSONDecodeError"
    assert errors["jsonerr"]["message"] == report["json"]
    assert errors["empty"] == {"type": "KeyError", "message": ""}
    # No stack below ERROR (error_stacks is off anyway).
    assert all("stack" not in errors[k] for k in ("value", "mine", "os"))

    objects = one(evs, "objects")
    assert objects["thing"] == '<Thing 42 "quoted">'
    assert objects["a_list"] == repr([1, "two", None]) and objects["a_dict"] == repr({"k": 1})
    assert objects["a_set"] == repr(frozenset())
    assert isinstance(objects["bad"], str) and objects["bad"] != ""


def test_values_cut_strings(rt):
    _, _, lines = _produce(rt)
    cut = one(events(lines), "cut")
    assert cut["long"] == "x" * 64
    assert cut["exact"] == "y" * 64 and cut["short"] == "z"
    # 101 bytes cut to 64: 'a', 31 whole characters and half of one (U+FFFD).
    assert cut["multibyte"].startswith("a" + "\u00e9" * 31)
    assert cut["multibyte"] in ("a" + "\u00e9" * 31, "a" + "\u00e9" * 31 + "\ufffd")
    assert cut["err"]["type"] == "ValueError" and cut["err"]["message"] == "m" * 64
    keys = list(cut.keys())
    assert keys[-1] == "_cut", "_cut is the last key"
    assert cut["_cut"] == {"long": 100, "multibyte": 101, "err": 80}


def test_values_field_count_and_message_type(rt):
    _, report, lines = _produce(rt)
    evs = events(lines)
    f32 = one(evs, "fields32")
    assert [k for k in f32 if k.startswith("f")] == [f"f{i:02d}" for i in range(32)]
    assert all(f32[f"f{i:02d}"] == i for i in range(32))
    assert report["ok"]["fields32"] is True
    raised = report["raised"]
    assert "fields33" in raised and "32" in raised["fields33"]
    assert by_message(evs, "fields33") == []
    for name in ("int_message", "bytes_message", "none_message", "no_message", "two_positional",
                 "log_int_message"):
        assert raised.get(name) == "TypeError", (name, raised.get(name))
    assert raised.get("bad_level") == "ValueError" and raised.get("audit_off") == "ValueError"


def test_values_levels_log_and_audit(rt):
    _, report, lines = _produce(rt)
    evs = events(lines)
    ok = report["ok"]
    for name in ("bools", "ints", "floats", "strs", "bytes", "none", "times", "errors", "objects", "cut",
                 "log_warn", "warning_alias", "audit_info", "audit_off", "after_on"):
        assert ok[name] is True, name
    # Filtered (default level info; "off"): False, and nothing written.
    for name in ("log_trace", "debug", "critical_off", "enabled_critical_off"):
        assert ok[name] is False, name
    assert ok["level_after_off"].lower() == "off"
    for message in ("filtered via log", "filtered debug", "off critical"):
        assert by_message(evs, message) == []
    w = one(evs, "via log")
    assert w["level"] == "WARN" and w["n"] == 1
    assert one(evs, "via warning")["level"] == "WARN"
    a = one(evs, "audit one")
    assert a["level"] == "INFO" and a["who"] == "me"
    off = one(evs, "audit while off")
    assert off["level"] == "WARN" and off["who"] == "you"
    assert one(evs, "on again")["level"] == "INFO"
    # One thread: seqs contiguous, and every committed call took exactly one.
    seqs = [l["seq"] for l in evs]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert len(evs) == sum(1 for v in ok.values() if v is True)


def test_level_filter_at_init(rt):
    p = rt.run_ok(
        """
        import json, ringtail
        ringtail.init(service="filtered", level="warn")
        r = [ringtail.info("dropped info", n=1), ringtail.debug("dropped debug"),
             ringtail.warn("kept warn"), ringtail.error("kept error"), ringtail.enabled("info"),
             ringtail.enabled("warn"), ringtail.level()]
        print(json.dumps(r))
        """
    )
    r = stdout_json(p)
    assert r[:6] == [False, False, True, True, False, True]
    assert r[6].lower() == "warn"
    evs = events(rt.drain([p.pid]))
    assert [e["message"] for e in evs] == ["kept warn", "kept error"]
    assert [e["level"] for e in evs] == ["WARN", "ERROR"]


def test_before_init_and_env_options(rt):
    """Events before init are lost and counted; RINGTAIL_* variables give init's defaults."""
    p = rt.run_ok(
        """
        import json, ringtail
        before = ringtail.info("before init")
        ringtail.init()
        r = {"before": before, "counters": ringtail.loss_counters(), "level": ringtail.level(),
             "debug": ringtail.debug("env debug"), "seg": ringtail.segment_name()}
        print(json.dumps(r))
        """,
        env={"RINGTAIL_SERVICE": "from-env", "RINGTAIL_LEVEL": "debug"},
    )
    r = stdout_json(p)
    assert r["before"] is False and r["counters"]["before_init"] == 1
    assert r["debug"] is True and r["level"].lower() == "debug"
    assert re.fullmatch(rf"/?ringtail\.{p.pid}\.\d+", r["seg"]), r["seg"]
    evs = events(rt.drain([p.pid]))
    assert [e["message"] for e in evs] == ["env debug"]
    assert evs[0]["service"] == "from-env" and evs[0]["level"] == "DEBUG"


def test_float_values_round_trip(rt):
    """Random doubles come back exactly (shortest round-trip text)."""
    p = rt.run_ok(
        """
        import json, random, ringtail, struct
        ringtail.init(service="floats")
        rng = random.Random(1234)
        values = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(200)]
        values = [v for v in values if v == v and abs(v) != float("inf")][:100]
        for v in values:
            assert ringtail.info("f", v=v)
        print(json.dumps([v.hex() for v in values]))
        """
    )
    expected = [float.fromhex(h) for h in stdout_json(p)]
    got = [e["v"] for e in events(rt.drain([p.pid]))]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert float(g) == e and math.copysign(1, float(g)) == math.copysign(1, e)


def test_init_errors(rt):
    p = rt.run_ok(
        """
        import json, ringtail
        r = {}
        for name, kwargs in [("level", {"level": "loud"}), ("mode", {"mode": "sideways"}),
                             ("ring_bytes", {"ring_bytes": 3000}), ("max_threads", {"max_threads": 0}),
                             ("shm_mode", {"shm_mode": 0o1000})]:
            try:
                ringtail.init(service="bad", **kwargs)
                r[name] = "no error"
            except ValueError:
                r[name] = "ValueError"
            except Exception as e:
                r[name] = type(e).__name__
        ringtail.init(service="good")
        r["first"] = ringtail.info("after good init")
        try:
            ringtail.init(service="again")
            r["again"] = "no error"
        except RuntimeError:
            r["again"] = "RuntimeError"
        r["second"] = ringtail.info("after second init")
        print(json.dumps(r))
        """
    )
    r = stdout_json(p)
    for name in ("level", "mode", "ring_bytes", "max_threads", "shm_mode"):
        assert r[name] == "ValueError", (name, r[name])
    assert r["again"] == "RuntimeError" and r["first"] is True and r["second"] is True
    evs = events(rt.drain([p.pid]))
    assert [(e["message"], e["service"]) for e in evs] == [("after good init", "good"),
                                                           ("after second init", "good")]


def test_error_stacks(rt):
    """init(error_stacks=True): ERROR and above carry the exception's traceback, innermost frame first;
    lower levels and exceptions never raised carry none."""
    p = rt.run_ok(
        """
        import ringtail
        ringtail.init(service="stacks", error_stacks=True)
        def innermost_frame():
            raise OSError(5, "io trouble")
        def caller_frame():
            innermost_frame()
        try:
            caller_frame()
        except OSError as e:
            ringtail.error("as error", error=e)
            ringtail.critical("as critical", error=e)
            ringtail.warn("as warn", error=e)
        ringtail.error("never raised", error=ValueError("fresh"))
        """
    )
    evs = events(rt.drain([p.pid]))
    for message in ("as error", "as critical"):
        err = one(evs, message)["error"]
        assert err["type"] == "OSError" and err["code"] == 5 and err["message"] == "[Errno 5] io trouble"
        stack = err["stack"]
        assert len(stack) == 3, stack
        assert "innermost_frame" in stack[0] and "caller_frame" in stack[1] and "<module>" in stack[2]
        assert re.fullmatch(r".+\.py:\d+ \(innermost_frame\)", stack[0]), stack[0]
    assert "stack" not in one(evs, "as warn")["error"]
    assert one(evs, "never raised")["error"] == {"type": "ValueError", "message": "fresh"}


def test_index_integers_and_nul_keys(rt):
    """Objects with __index__ (numpy's integers) log as their int; a NUL in a key is written
    as U+FFFD (the call-site table holds NUL-terminated text), so keys that differ after it
    stay apart."""
    p = rt.run_ok(
        """
        import ringtail
        ringtail.init(service="index")
        class Count:
            def __index__(self):
                return 2**63 + 5
        class Broken:
            def __index__(self):
                raise ValueError("no")
            def __repr__(self):
                return "Broken()"
        ringtail.info("index", n=Count(), b=Broken())
        ringtail.info("nul keys", **{"a\\x00b": 1})
        ringtail.info("nul keys", **{"a": 2})
        """
    )
    evs = events(rt.drain([p.pid]))
    index = one(evs, "index")
    assert index["n"] == 2**63 + 5 and index["b"] == "Broken()"
    first, second = by_message(evs, "nul keys")
    assert first["a\ufffdb"] == 1 and "a" not in first
    assert second["a"] == 2 and "a\ufffdb" not in second
