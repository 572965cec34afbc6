// Contexts and spans for Python: frames that follow contextvars.
//
// The current chain of frames lives in a contextvars.ContextVar, so each
// asyncio task and each thread has its own. A frame is encoded once, when it
// begins; what the calling thread has bound in its ring follows the chain
// lazily: before an event (and before a frame begins or ends), if the
// thread's bound chain is not the current one, the frames below their common
// ancestor are unbound and the rest bound again, all as resent records (no
// span lines). So tasks that interleave on one thread each log with their own
// context, a span that ends on another thread than it began still gets one
// span.end line, and an event whose context did not change costs one
// ContextVar read and one pointer comparison. Needs the GIL. Python frames
// are assumed to be the only frames of a thread (C++ ScopedContext and Span
// on the same thread while Python frames are bound are not supported).
#pragma once

#include <Python.h>

namespace ringtail::python {

// Creates the ContextVar (at module import); the module exports it.
PyObject* create_frame_var();
// Binds the current chain on the calling thread, if it is not bound already.
void sync_frames();

}  // namespace ringtail::python
