"""logging and structlog into ringtail, each a one-line switch.

    logging.getLogger().addHandler(ringtail.LoggingHandler())
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, ringtail.StructlogProcessor()])

A message with %-arguments keeps its template as the event's message (so
one logging statement stays one call site) and the formatted text in the
field "text". The logger's name is the field "logger"; extra= fields are
fields; an exception (exc_info) is the field "error", with its traceback.
"""

import logging
import sys

from . import _ringtail

# Attributes every LogRecord has: the rest came from extra=.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def _level_of(levelno):
    if levelno >= logging.CRITICAL:
        return "critical"
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    if levelno >= logging.DEBUG:
        return "debug"
    return "trace"


class LoggingHandler(logging.Handler):
    """A logging.Handler that writes each record as a ringtail event.

    Levels: CRITICAL, ERROR, WARNING, INFO and DEBUG map to their ringtail
    levels, anything below DEBUG to trace. The ringtail level filters too:
    a record below it costs one check.
    """

    def handle(self, record):
        # No handler lock: writing an event is thread-safe and lock-free.
        if self.filters and not self.filter(record):
            return False
        self.emit(record)
        return True

    def emit(self, record):
        try:
            level = _level_of(record.levelno)
            if not _ringtail.enabled(level):
                return
            fields = {"logger": record.name}
            if record.args:
                message = str(record.msg)
                fields["text"] = record.getMessage()
            else:
                message = record.msg if isinstance(record.msg, str) else str(record.msg)
            for key, value in record.__dict__.items():
                if key not in _RECORD_ATTRIBUTES:
                    fields[key] = value
            with_stack = False
            if record.exc_info and record.exc_info[1] is not None:
                fields["error"] = record.exc_info[1]
                with_stack = True
            if record.stack_info:
                fields["stack_info"] = record.stack_info
            _ringtail.log_fields(
                level, message, fields, record.pathname, record.lineno, record.funcName or "", False, with_stack
            )
        except Exception:
            self.handleError(record)


_STRUCTLOG_LEVELS = {
    "warning": "warn",
    "exception": "error",
    "fatal": "critical",
    "msg": "info",
    "notset": "trace",
}


class StructlogProcessor:
    """The last processor of a structlog chain: writes the event and stops the chain.

    The event's "event" is the message; its level is the "level" key (from
    structlog.processors.add_log_level) or the method's name; "timestamp" is
    dropped (the producer stamps the event); exc_info or an exception value
    becomes the field "error" with its traceback; every other key is a field.
    """

    def __init__(self):
        import structlog  # only its users need it installed

        self._drop_event = structlog.DropEvent

    def __call__(self, logger, method_name, event_dict):
        level = str(event_dict.pop("level", method_name)).lower()
        level = _STRUCTLOG_LEVELS.get(level, level)
        message = event_dict.pop("event", "")
        if not isinstance(message, str):
            message = str(message)
        event_dict.pop("timestamp", None)
        with_stack = False
        exc_info = event_dict.pop("exc_info", None)
        if exc_info is True or (method_name == "exception" and exc_info is None):
            exc_info = sys.exc_info()
        if isinstance(exc_info, BaseException):
            event_dict["error"] = exc_info
            with_stack = True
        elif isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[1] is not None:
            event_dict["error"] = exc_info[1]
            with_stack = True
        if _ringtail.enabled(level):
            _ringtail.log_fields(level, message, event_dict, "<structlog>", 0, method_name, False, with_stack)
        raise self._drop_event
