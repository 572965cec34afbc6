// SIGINT and SIGTERM as a stop request for the verbs that run until told to
// stop (`drain --follow`, `tail`).
//
// watch_stop_signals() blocks both signals in the calling thread, so every
// thread it starts afterwards inherits the block, and starts one thread that
// takes them with sigwait(): the first sets the returned flag (the engine
// finishes its final drain and the verb exits 0); a second one ends the
// process by the signal's default action, for a drain that takes too long.
//
// Why not a handler: a synchronous sigwait needs no async-signal-safety
// reasoning, and the stop cannot be lost to a runtime that defers handlers
// (ThreadSanitizer runs a handler only at the interrupted thread's next
// intercepted call, and a SIGINT to `tail` was seen to vanish that way).
//
// Call it before the verb starts any thread: a thread started earlier keeps
// both signals unblocked, and with no handler installed the kernel may pick it
// and kill the process outright.
#pragma once

#include <atomic>

namespace ringtail::cli {

// Idempotent; the flag lives for the rest of the process.
const std::atomic<bool>& watch_stop_signals();

}  // namespace ringtail::cli
