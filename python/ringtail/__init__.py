"""ringtail for Python: structured events into the same shared-memory rings as C++.

    import ringtail
    ringtail.init(service="agent")
    ringtail.info("tool call", step_id=3, tool="write_file", duration_ms=1.5)
    with ringtail.context(session_id="s-1"), ringtail.span("process_query") as s:
        ringtail.warn("slow tool", tool="search")

A separate reader (`ringtail drain`) writes the events as JSON lines; it
cannot tell a Python producer from a C++ one. Each event function returns
True when the event was committed to the calling thread's ring, False when
its level is filtered or it was lost (every loss is counted in the segment).
docs/PYTHON.md has the whole story: value types, contexts under asyncio,
logging and structlog, fork and spawn, call sites and their budget.
"""

from . import _ringtail
from ._frames import context, current_traceparent, span
from . import _init as _init_module
from ._init import init
from ._ringtail import (
    audit,
    critical,
    debug,
    enabled,
    error,
    info,
    level,
    log,
    loss_counters,
    max_event_bytes,
    segment_name,
    set_level,
    shutdown,
    site_counts,
    trace,
    warn,
)
from .handlers import LoggingHandler, StructlogProcessor
from . import agent

warning = warn

__all__ = [
    "agent",
    "audit",
    "context",
    "critical",
    "current_traceparent",
    "debug",
    "enabled",
    "error",
    "info",
    "init",
    "level",
    "log",
    "LoggingHandler",
    "loss_counters",
    "max_event_bytes",
    "segment_name",
    "set_level",
    "shutdown",
    "site_counts",
    "span",
    "StructlogProcessor",
    "trace",
    "warn",
    "warning",
]

_init_module.init_inherited()
