// Waiting in tests on the very condition a test asserts, instead of
// sleeping a fixed time and hoping: eventually() polls a predicate until it
// holds or a generous deadline passes.
//
//   ASSERT_TRUE(ringtail::test::eventually([&] { return engine.stats().events == 100; }))
//       << "the engine never wrote the 100 events";
//
// The deadline only bounds a failing test: a passing one returns as soon as
// the condition holds, so deadlines are long (30 s unless told).
#pragma once

#include <chrono>
#include <thread>

namespace ringtail::test {

inline constexpr std::chrono::milliseconds kEventuallyTimeout = std::chrono::seconds(30);

// Polls `predicate` (every `interval`) until it returns true (then true) or
// `timeout` passes (then false, after one last try).
template <class Predicate>
bool eventually(Predicate&& predicate, std::chrono::milliseconds timeout = kEventuallyTimeout,
                std::chrono::microseconds interval = std::chrono::milliseconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace ringtail::test
