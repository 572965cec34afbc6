// Out-of-line loops over each measured call, for callgrind (--toggle-collect
// on these names counts exactly the loop) and for objdump (one symbol per
// subject). extern "C" so that the names need no demangling.
#pragma once

#include <cstdint>

#include "raw_ring.hpp"

extern "C" {
// n x emit_tool_call(i, i * 0.5); returns how many were committed.
uint64_t rtb_loop_ringtail(uint64_t n);
// n x emit_tool_call_disabled(...); returns how many passed the level test (0).
uint64_t rtb_loop_disabled(uint64_t n);
// n x RawRing::push(i, i * 0.5, "write_file"); returns how many were stored.
uint64_t rtb_loop_raw(ringtail_bench::RawRing* ring, uint64_t n);
// n x { ringtail::Span span("tool_call"); }: a span begun and ended.
uint64_t rtb_loop_span(uint64_t n);
// The loop alone, with no call in it: the fixed per-iteration cost.
uint64_t rtb_loop_empty(uint64_t n);
}
