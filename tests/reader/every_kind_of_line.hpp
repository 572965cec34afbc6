// A producer child that logs every kind of line a drain writes: events at
// every level with every scalar type (a null too), a service name and a key
// that need escapes, a field named like a head key (written with an
// underscore), a string cut to max_string_bytes (so "_cut"), an error
// object, context fields, a failed span (span.start, span.end with its
// error), a burst past the ring (a ringtail.dropped line) and a crash
// (SIGKILL: the drain adds ringtail.crashed). For tests that check something
// for each kind of line.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "producer_child.hpp"
#include "ringtail/ringtail.hpp"

namespace ringtail::reader::testing {

// Started and already dead (check ok() and join() == 128 + SIGKILL).
inline ringtail::test::ProducerChild start_every_kind_of_line() {
  Options producer;
  producer.service = "counted \"index\"\x01";  // a service name the lines escape
  producer.ring_bytes = 4096;                  // small: the burst below drops
  producer.max_threads = 4;
  producer.max_string_bytes = 64;
  producer.min_level = Level::kDebug;
  return ringtail::test::ProducerChild::start(producer, [](ringtail::test::ProducerChild::Link&) {
    ScopedContext outer{kv("session_id", "s-1"), kv("user", "u\"1")};
    RINGTAIL_DEBUG("debug line", kv("n", 1));
    RINGTAIL_INFO("tool call", kv("message", "a field named message"), kv("key\"with\tescapes", true),
                  kv("long", std::string(200, 'x')), kv("ratio", 0.5), kv("count", uint64_t{7}),
                  kv("big", std::numeric_limits<uint64_t>::max()), kv("flag", true), kv("parent", nullptr));
    {
      Span span("process_query", kv("query_id", 7));
      RINGTAIL_WARN("inside the span", kv("step", -3), kv("flag", false));
      span.fail(std::runtime_error("it failed"));
    }
    RINGTAIL_ERROR("failed", kv("error", std::runtime_error("boom")));
    RINGTAIL_CRITICAL("critical \u00e9 message");
    for (int i = 0; i < 500; ++i) RINGTAIL_INFO("burst", kv("i", i));  // past the ring: drops
    RINGTAIL_INFO("after the burst", kv("i", 42));
    ::kill(::getpid(), SIGKILL);
    return 0;
  });
}

}  // namespace ringtail::reader::testing
