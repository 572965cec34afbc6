"""ringtail.context and ringtail.span: fields and spans bound to the code that runs inside them.

Both follow contextvars: each thread, and each asyncio task, sees only the
contexts and spans it entered (a task starts with a copy of its creator's).
The native module binds the current chain onto the calling thread's ring
before each event, so that interleaved tasks never see each other's fields.
"""

import contextvars
import functools
import inspect

from . import _ringtail

_frame_var = _ringtail.frame_var


class _Scope:
    """A with-statement that is also a decorator (sync and async functions)."""

    def __init__(self):
        # (frame, token) of each entry, innermost last, per thread and task:
        # the same object may be entered again, also by tasks that overlap.
        self._entered = contextvars.ContextVar("ringtail_scope", default=())

    def _fresh(self):
        raise NotImplementedError

    def _begin(self):
        raise NotImplementedError

    def __enter__(self):
        frame = self._begin()
        token = _frame_var.set(frame)
        self._entered.set(self._entered.get() + ((frame, token),))
        return self

    def __exit__(self, exc_type, exc, tb):
        entered = self._entered.get()
        frame, token = entered[-1]
        self._entered.set(entered[:-1])
        _ringtail.end_frame(frame, self._outcome(exc))
        _frame_var.reset(token)
        return False

    def _outcome(self, exc):
        return None

    @property
    def _frame(self):
        entered = self._entered.get()
        if not entered:
            raise RuntimeError("not entered here: use it in a with statement")
        return entered[-1][0]

    def __call__(self, function):
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args, **kwargs):
                with self._fresh():
                    return await function(*args, **kwargs)

            return run_async

        @functools.wraps(function)
        def run(*args, **kwargs):
            with self._fresh():
                return function(*args, **kwargs)

        return run


class context(_Scope):
    """with ringtail.context(session_id=..., user_id=...): every event inside carries these fields.

    Scopes nest; an inner field wins over an outer one of the same name, and
    an event's own field over both. Values are converted once, on entry.
    """

    def __init__(self, **fields):
        super().__init__()
        self._fields = fields

    def _fresh(self):
        return context(**self._fields)

    def _begin(self):
        return _ringtail.begin_context(self._fields)


class span(_Scope):
    """with ringtail.span("process_query", query_id=7) as s: a timed operation of a W3C trace.

    The reader writes span.start and span.end (with status and duration_ms);
    every event inside carries trace_id and span_id. A span's parent is the
    current span, or the remote one of `traceparent` (an incoming W3C header),
    or none (a new trace). Leaving by an exception ends it with status ERROR
    and the exception as its error; s.fail(exc) ends it so at once;
    s.set_status("ERROR") marks it failed without an error.
    """

    def __init__(self, name, *, traceparent=None, **attributes):
        super().__init__()
        self._name = str(name)
        self._traceparent = traceparent
        self._attributes = attributes

    def _fresh(self):
        return span(self._name, traceparent=self._traceparent, **self._attributes)

    def _begin(self):
        return _ringtail.begin_span(self._name, self._attributes, self._traceparent)

    def _outcome(self, exc):
        return exc

    @property
    def traceparent(self):
        """The header to pass to the next hop: "00-<trace_id>-<span_id>-<flags>"."""
        return self._frame.traceparent

    @property
    def trace_id(self):
        return self._frame.trace_id

    @property
    def span_id(self):
        return self._frame.span_id

    def fail(self, exc):
        """Ends the span now, with status ERROR and `exc` (an exception) as its error."""
        _ringtail.end_frame(self._frame, exc)

    def set_status(self, status):
        """"ERROR" marks the span failed (its span.end says so); "OK" is the default."""
        if status == "ERROR":
            self._frame.set_failed()
        elif status != "OK":
            raise ValueError(f'status is "OK" or "ERROR", not {status!r}')


def current_traceparent():
    """The traceparent header of the current span, or None outside any span."""
    frame = _frame_var.get(None)
    header = frame.traceparent if frame is not None else ""
    return header or None
