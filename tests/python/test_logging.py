"""ringtail.LoggingHandler (the logging module) and ringtail.StructlogProcessor (structlog)."""

from conftest import by_message, events, one, stdout_json

LOGGING = r'''
import json, logging, ringtail
ringtail.init(service="logs", level="trace")
handler = ringtail.LoggingHandler()
root = logging.getLogger()
root.addHandler(handler)
root.setLevel(1)
log = logging.getLogger("app.sub")

log.debug("a debug")
log.info("an info")
log.warning("a warning")
log.error("an error")
log.critical("a critical")
log.log(5, "custom five")
log.log(1, "custom one")
log.log(25, "between info and warn")
log.info("with extra", extra={"user_id": 7, "ratio": 0.5, "tags": None})
log.info("hello %s, you are %d", "bob", 42)
log.info("mapping %(name)s", {"name": "alice"})
log.info(12345)

def innermost_function():
    raise ValueError("deep failure")

def middle():
    innermost_function()

try:
    middle()
except ValueError:
    log.exception("it failed %s", "badly")

try:
    {}["missing"]
except KeyError:
    log.warning("warned with exc_info", exc_info=True)

logging.getLogger("other").info("other logger")
print(json.dumps({"file": __file__}))
'''


def test_logging_handler(rt):
    p = rt.run_ok(LOGGING)
    assert p.stderr == "", p.stderr  # no "--- Logging error ---"
    me = stdout_json(p)
    evs = events(rt.drain([p.pid]))
    expected = [
        ("a debug", "DEBUG"), ("an info", "INFO"), ("a warning", "WARN"), ("an error", "ERROR"),
        ("a critical", "CRITICAL"), ("custom five", "TRACE"), ("custom one", "TRACE"),
        ("between info and warn", "INFO"),
    ]
    for message, level in expected:
        line = one(evs, message)
        assert line["level"] == level, (message, line)
        assert line["logger"] == "app.sub"
        assert "text" not in line and "error" not in line

    extra = one(evs, "with extra")
    assert extra["user_id"] == 7 and extra["ratio"] == 0.5 and extra["tags"] is None
    assert extra["logger"] == "app.sub"
    # No LogRecord attribute leaks as a field.
    for attribute in ("args", "msg", "levelno", "pathname", "lineno", "funcName", "created", "thread",
                      "processName", "exc_info", "stack_info", "msecs", "module", "filename"):
        assert attribute not in extra, attribute

    fmt = one(evs, "hello %s, you are %d")
    assert fmt["text"] == "hello bob, you are 42" and fmt["level"] == "INFO"
    mapping = one(evs, "mapping %(name)s")
    assert mapping["text"] == "mapping alice"
    assert one(evs, "12345")["logger"] == "app.sub"

    failed = one(evs, "it failed %s")
    assert failed["level"] == "ERROR" and failed["text"] == "it failed badly"
    err = failed["error"]
    assert err["type"] == "ValueError" and err["message"] == "deep failure"
    stack = err["stack"]
    assert isinstance(stack, list) and len(stack) >= 2 and all(isinstance(s, str) for s in stack)
    assert "innermost_function" in stack[0], stack
    assert me["file"] in stack[0] and "middle" in stack[1], stack

    warned = one(evs, "warned with exc_info")
    assert warned["level"] == "WARN" and warned["error"]["type"] == "KeyError"
    assert warned["error"]["message"] == repr("missing") and warned["error"]["stack"]

    assert one(evs, "other logger")["logger"] == "other"
    assert len(evs) == len(expected) + 7


def test_logging_ringtail_level_filters(rt):
    p = rt.run_ok(
        """
        import logging, ringtail
        ringtail.init(service="logs", level="warn")
        logging.basicConfig(level=logging.DEBUG, handlers=[ringtail.LoggingHandler()])
        log = logging.getLogger("filtered")
        log.debug("dropped debug")
        log.info("dropped info %s", "x")
        log.warning("kept warning")
        log.error("kept error")
        ringtail.set_level("error")
        log.warning("dropped after set_level")
        log.critical("kept critical")
        """
    )
    assert p.stderr == ""
    evs = events(rt.drain([p.pid]))
    assert [e["message"] for e in evs] == ["kept warning", "kept error", "kept critical"]
    assert [e["level"] for e in evs] == ["WARN", "ERROR", "CRITICAL"]


def test_logging_handler_with_context_and_threads(rt):
    """Records carry the ringtail context of the thread that logs them."""
    p = rt.run_ok(
        """
        import logging, threading, ringtail
        ringtail.init(service="logs")
        log = logging.getLogger("ctx")
        log.addHandler(ringtail.LoggingHandler())
        log.setLevel(logging.INFO)
        def work(n):
            with ringtail.context(worker=n):
                for i in range(50):
                    log.info("work item", extra={"n": n, "i": i})
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        with ringtail.context(main=True):
            for t in threads: t.start()
            for t in threads: t.join()
            log.info("done")
        """
    )
    evs = events(rt.drain([p.pid]))
    items = by_message(evs, "work item")
    assert len(items) == 200
    for e in items:
        assert e["worker"] == e["n"] and "main" not in e
    for n in range(4):
        mine = [e for e in items if e["n"] == n]
        assert len({e["tid"] for e in mine}) == 1
        assert [e["i"] for e in mine] == list(range(50))
    assert one(evs, "done")["main"] is True


STRUCTLOG = r'''
import json, structlog, ringtail
ringtail.init(service="slog", level="debug")
structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
        ringtail.StructlogProcessor(),
    ],
)
log = structlog.get_logger().bind(request_id="r-1", attempt=2)
structlog.contextvars.bind_contextvars(session="s-9")
log.info("hello", n=3, ratio=0.25)
log.debug("a debug")
log.warning("careful", what="disk")
log.warn("careful too")
log.error("bad", code=500)
log.critical("worse")
structlog.contextvars.clear_contextvars()
log.info("unbound")

def innermost_function():
    raise RuntimeError("structlog boom")

try:
    innermost_function()
except RuntimeError:
    log.exception("caught")
try:
    1 / 0
except ZeroDivisionError as e:
    log.error("with exc_info", exc_info=e)
with ringtail.context(outer="ctx"):
    log.info("in ringtail context")
'''


def test_structlog_processor(rt):
    p = rt.run_ok(STRUCTLOG)
    assert p.stdout == "", f"structlog printed: {p.stdout!r}"
    assert p.stderr == "", p.stderr
    evs = events(rt.drain([p.pid]))

    hello = one(evs, "hello")
    assert hello["level"] == "INFO" and hello["n"] == 3 and hello["ratio"] == 0.25
    assert hello["request_id"] == "r-1" and hello["attempt"] == 2 and hello["session"] == "s-9"
    assert "event" not in hello and "timestamp" not in {k for k in hello if k != "timestamp"}
    assert "_timestamp" not in hello and "_level" not in hello  # structlog's own keys are not fields
    assert one(evs, "a debug")["level"] == "DEBUG"
    careful = one(evs, "careful")
    assert careful["level"] == "WARN" and careful["what"] == "disk"
    assert one(evs, "careful too")["level"] == "WARN"
    assert one(evs, "bad")["level"] == "ERROR" and one(evs, "bad")["code"] == 500
    assert one(evs, "worse")["level"] == "CRITICAL"
    unbound = one(evs, "unbound")
    assert "session" not in unbound and unbound["request_id"] == "r-1"

    caught = one(evs, "caught")
    assert caught["level"] == "ERROR"
    assert caught["error"]["type"] == "RuntimeError" and caught["error"]["message"] == "structlog boom"
    assert "innermost_function" in caught["error"]["stack"][0]
    assert "exc_info" not in caught
    div = one(evs, "with exc_info")
    assert div["error"]["type"] == "ZeroDivisionError" and div["error"]["stack"]

    inctx = one(evs, "in ringtail context")
    assert inctx["outer"] == "ctx" and inctx["request_id"] == "r-1"
    assert len(evs) == 10


def test_structlog_level_filter(rt):
    p = rt.run_ok(
        """
        import structlog, ringtail
        ringtail.init(service="slog", level="warn")
        structlog.configure(processors=[structlog.processors.add_log_level, ringtail.StructlogProcessor()])
        log = structlog.get_logger()
        log.info("dropped")
        log.debug("dropped too")
        log.warning("kept")
        """
    )
    assert p.stdout == ""
    evs = events(rt.drain([p.pid]))
    assert [(e["message"], e["level"]) for e in evs] == [("kept", "WARN")]
