// Trace and span ids: the traceparent text, and the per-thread id generator.
#include "ringtail/trace_context.hpp"

#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace ringtail {
namespace {

// ---------------------------------------------------------------------------
// Text.

constexpr char kHex[] = "0123456789abcdef";

void put_hex64(uint64_t value, char* out) noexcept {
  for (int i = 15; i >= 0; --i) {
    out[i] = kHex[value & 0xF];
    value >>= 4;
  }
}

// Lowercase hex only: the spec forbids uppercase (HEXDIGLC), so "4BF9" is invalid.
int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// `digits` (at most 16) lowercase hex digits at `text` into *out.
bool parse_hex(const char* text, size_t digits, uint64_t* out) noexcept {
  uint64_t value = 0;
  for (size_t i = 0; i < digits; ++i) {
    const int digit = hex_digit(text[i]);
    if (digit < 0) return false;
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  *out = value;
  return true;
}

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

// Offsets in "vv-tttttttttttttttttttttttttttttttt-pppppppppppppppp-ff".
constexpr size_t kTraceIdAt = 3;
constexpr size_t kParentIdAt = kTraceIdAt + kTraceIdChars + 1;  // 36
constexpr size_t kFlagsAt = kParentIdAt + kSpanIdChars + 1;     // 53
static_assert(kFlagsAt + 2 == kTraceParentChars);

// ---------------------------------------------------------------------------
// Random ids.
//
// Each thread owns a xoshiro256** generator (Blackman and Vigna, "Scrambled
// linear pseudorandom number generators", 2018): four words of state, a few
// shifts and xors per draw, no lock. It is seeded on the thread's first draw
// from getrandom(2). After fork() the child holds a copy of the forking
// thread's state and would repeat its parent's next ids, so a pthread_atfork
// handler bumps g_fork_epoch in the child, and every draw compares the
// thread's seeding epoch with it: one relaxed load, no getpid() per call.
// Relaxed suffices: the child handler runs on the only thread of the child,
// before fork() returns there, and threads the child starts later see it
// through pthread_create.

struct ThreadGenerator {
  uint64_t state[4];
  uint64_t epoch;  // g_fork_epoch when seeded; 0: never seeded
};

// Starts at 1 so that a thread's zero epoch means "not seeded yet": one
// comparison covers both the first draw and a fork.
std::atomic<uint64_t> g_fork_epoch{1};
// Told apart threads that seed from the clock fallback in the same instant.
std::atomic<uint64_t> g_seed_counter{0};

// Constant-initialised and trivially destructible: no TLS guard, no
// allocation, no destructor registration on any thread.
constinit thread_local ThreadGenerator t_generator{};

void after_fork_in_child() noexcept { g_fork_epoch.fetch_add(1, std::memory_order_relaxed); }

constexpr uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

// splitmix64: spreads seed material over the state words (and never maps a
// run of inputs to the all-zero state xoshiro cannot leave).
uint64_t splitmix64(uint64_t& x) noexcept {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t clock_ns(clockid_t clock) noexcept {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// True when getrandom filled `bytes` whole. GRND_NONBLOCK: a process started
// before the kernel's pool is ready (early boot) takes the fallback rather
// than waiting for it.
bool random_bytes(void* bytes, size_t size) noexcept {
  auto* p = static_cast<unsigned char*>(bytes);
  while (size > 0) {
    const ssize_t n = ::getrandom(p, size, GRND_NONBLOCK);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

[[gnu::noinline]] void seed(ThreadGenerator& g) noexcept {
  // Registered on the first seeding in the process: until then there is no
  // generator state a fork child could copy. pthread_atfork fails only for
  // want of memory; the child would then repeat ids, nothing worse.
  static const bool registered = ::pthread_atfork(nullptr, nullptr, after_fork_in_child) == 0;
  (void)registered;
  const int saved_errno = errno;  // the caller's errno is not ours to change
  uint64_t words[4] = {};
  if (!random_bytes(words, sizeof(words))) {
    // Distinct per thread, process and instant, if not unpredictable.
    uint64_t x = clock_ns(CLOCK_REALTIME) ^ rotl(clock_ns(CLOCK_MONOTONIC), 21) ^
                 (static_cast<uint64_t>(::gettid()) << 32) ^ static_cast<uint64_t>(::getpid()) ^
                 reinterpret_cast<uintptr_t>(&g) ^ rotl(g_seed_counter.fetch_add(1, std::memory_order_relaxed), 48);
    for (uint64_t& w : words) w = splitmix64(x);
  }
  errno = saved_errno;
  // Spread the words once more: a zero-filled (or otherwise weak) read still
  // yields a state that is not all zero.
  uint64_t mix = words[0] ^ rotl(words[1], 16) ^ rotl(words[2], 32) ^ rotl(words[3], 48);
  for (int i = 0; i < 4; ++i) g.state[i] = words[i] ^ splitmix64(mix);
  if ((g.state[0] | g.state[1] | g.state[2] | g.state[3]) == 0) g.state[0] = 1;
  g.epoch = g_fork_epoch.load(std::memory_order_relaxed);
}

// The next 64 random bits of the calling thread's generator.
uint64_t next_random() noexcept {
  ThreadGenerator& g = t_generator;
  if (g.epoch != g_fork_epoch.load(std::memory_order_relaxed)) [[unlikely]]
    seed(g);
  uint64_t* s = g.state;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

}  // namespace

std::optional<TraceParent> parse_traceparent(std::string_view header) noexcept {
  while (!header.empty() && is_ows(header.front())) header.remove_prefix(1);
  while (!header.empty() && is_ows(header.back())) header.remove_suffix(1);
  if (header.size() < kTraceParentChars) return std::nullopt;
  const char* h = header.data();
  uint64_t version = 0;
  if (!parse_hex(h, 2, &version) || version == 0xff) return std::nullopt;
  // Version 00 is exactly 55 characters; a later version may append fields,
  // each introduced by '-'.
  if (version == 0 ? header.size() != kTraceParentChars
                   : header.size() > kTraceParentChars && h[kTraceParentChars] != '-') {
    return std::nullopt;
  }
  if (h[2] != '-' || h[kParentIdAt - 1] != '-' || h[kFlagsAt - 1] != '-') return std::nullopt;
  TraceParent out;
  uint64_t flags = 0;
  if (!parse_hex(h + kTraceIdAt, 16, &out.trace_id.high) || !parse_hex(h + kTraceIdAt + 16, 16, &out.trace_id.low) ||
      !parse_hex(h + kParentIdAt, 16, &out.parent_span_id) || !parse_hex(h + kFlagsAt, 2, &flags)) {
    return std::nullopt;
  }
  if (!out.trace_id.valid() || out.parent_span_id == 0) return std::nullopt;
  out.trace_flags = static_cast<uint8_t>(flags);
  return out;
}

void format_trace_id(const TraceId& id, char* out) noexcept {
  put_hex64(id.high, out);
  put_hex64(id.low, out + 16);
}

void format_span_id(uint64_t id, char* out) noexcept { put_hex64(id, out); }

void format_traceparent(const TraceId& trace_id, uint64_t span_id, uint8_t trace_flags, char* out) noexcept {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  format_trace_id(trace_id, out + kTraceIdAt);
  out[kParentIdAt - 1] = '-';
  format_span_id(span_id, out + kParentIdAt);
  out[kFlagsAt - 1] = '-';
  out[kFlagsAt] = kHex[trace_flags >> 4];
  out[kFlagsAt + 1] = kHex[trace_flags & 0xF];
}

std::string format_traceparent(const TraceId& trace_id, uint64_t span_id, uint8_t trace_flags) {
  std::string text(kTraceParentChars, '\0');
  format_traceparent(trace_id, span_id, trace_flags, text.data());
  return text;
}

TraceId new_trace_id() noexcept {
  TraceId id;
  do {
    id.high = next_random();
    id.low = next_random();
  } while (!id.valid());
  return id;
}

uint64_t new_span_id() noexcept {
  uint64_t id = 0;
  do {
    id = next_random();
  } while (id == 0);
  return id;
}

}  // namespace ringtail
