// Round trip: a forked producer logs every field type from several threads;
// the reader decodes every field of every record bit for bit, with the right
// call sites, threads and sequence numbers.
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

// core/include/ringtail/log.hpp warns (-Wunused-but-set-variable on
// `max_string`) when a call site has no fields, as "no fields" below has.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#include "ringtail/ringtail.hpp"
#pragma GCC diagnostic pop

#include "ingest_test_support.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/ingest/timestamp.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::Drainer;
using testing::Item;

constexpr uint32_t kThreads = 4;  // the child's main thread is thread 0
constexpr uint32_t kIterations = 300;
constexpr uint32_t kMaxString = 100;  // not a multiple of 8: the cut string gets padding

enum class Color : int8_t { kRed = -128, kGreen = 0, kBlue = 127 };
enum class Wide : uint16_t { kLow = 0, kHigh = 65535 };

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

struct Scalars {
  bool b;
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  float f32;
  double f64;
  Color color;
  Wide wide;
  std::chrono::milliseconds ms;
  std::chrono::nanoseconds ns;
  std::chrono::microseconds us;
  long long ll;
  unsigned short us16;
};

Scalars make_scalars(uint32_t t, uint32_t i) {
  uint64_t r = splitmix64((uint64_t{t} << 32) | i);
  auto next = [&r] { return r = splitmix64(r); };
  Scalars s{};
  switch (i % 8) {
    case 0:  // minimums
      s = {false,
           INT8_MIN,
           INT16_MIN,
           INT32_MIN,
           INT64_MIN,
           0,
           0,
           0,
           0,
           std::numeric_limits<float>::lowest(),
           std::numeric_limits<double>::lowest(),
           Color::kRed,
           Wide::kLow,
           std::chrono::milliseconds(std::numeric_limits<int64_t>::min() / 1'000'000),
           std::chrono::nanoseconds(std::numeric_limits<int64_t>::min()),
           std::chrono::microseconds(-1),
           std::numeric_limits<long long>::min(),
           0};
      break;
    case 1:  // maximums
      s = {true,
           INT8_MAX,
           INT16_MAX,
           INT32_MAX,
           INT64_MAX,
           UINT8_MAX,
           UINT16_MAX,
           UINT32_MAX,
           UINT64_MAX,
           std::numeric_limits<float>::max(),
           std::numeric_limits<double>::max(),
           Color::kBlue,
           Wide::kHigh,
           std::chrono::milliseconds(std::numeric_limits<int64_t>::max() / 1'000'000),
           std::chrono::nanoseconds(std::numeric_limits<int64_t>::max()),
           std::chrono::microseconds(1),
           std::numeric_limits<long long>::max(),
           USHRT_MAX};
      break;
    case 2:  // special floating point values
      s = make_scalars(t, i + 3);
      s.f32 = std::numeric_limits<float>::quiet_NaN();
      s.f64 = -std::numeric_limits<double>::infinity();
      break;
    case 3:
      s = make_scalars(t, i + 2);
      s.f32 = -std::numeric_limits<float>::infinity();
      s.f64 = std::bit_cast<double>(uint64_t{0x7FF8'0000'DEAD'BEEFULL});  // NaN with a payload
      break;
    case 4:
      s = make_scalars(t, i + 1);
      s.f32 = std::numeric_limits<float>::denorm_min();
      s.f64 = -0.0;
      break;
    default:
      s.b = (next() & 1) != 0;
      s.i8 = static_cast<int8_t>(next());
      s.i16 = static_cast<int16_t>(next());
      s.i32 = static_cast<int32_t>(next());
      s.i64 = static_cast<int64_t>(next());
      s.u8 = static_cast<uint8_t>(next());
      s.u16 = static_cast<uint16_t>(next());
      s.u32 = static_cast<uint32_t>(next());
      s.u64 = next();
      s.f32 = static_cast<float>(static_cast<int32_t>(next())) / 7.0f;
      s.f64 = static_cast<double>(static_cast<int64_t>(next())) / 3.0;
      s.color = (next() & 1) != 0 ? Color::kGreen : Color::kBlue;
      s.wide = static_cast<Wide>(static_cast<uint16_t>(next()));
      s.ms = std::chrono::milliseconds(static_cast<int32_t>(next()));
      s.ns = std::chrono::nanoseconds(static_cast<int64_t>(next()));
      s.us = std::chrono::microseconds(static_cast<int32_t>(next()));
      s.ll = static_cast<long long>(next());
      s.us16 = static_cast<unsigned short>(next());
      break;
  }
  return s;
}

struct Strings {
  std::string view_backing;  // logged as std::string_view
  std::string owned;         // logged as std::string
  std::string long_value;    // longer than kMaxString: cut
  std::string exact;         // exactly kMaxString: not cut
  std::string binary;        // NULs and high bytes
  std::string c_string;      // logged as const char*
};

Strings make_strings(uint32_t t, uint32_t i) {
  Strings s;
  const uint64_t r = splitmix64((uint64_t{t} << 32) | i | (uint64_t{1} << 63));
  for (uint32_t k = 0; k < (i * 7) % 50; ++k) s.view_backing.push_back(static_cast<char>('a' + (r + k) % 26));
  s.owned = "thread " + std::to_string(t) + " iteration " + std::to_string(i);
  s.long_value.assign(kMaxString + 1 + i % 17, static_cast<char>('A' + i % 26));
  s.exact.assign(kMaxString, 'x');
  for (uint32_t k = 0; k < 1 + i % 9; ++k) s.binary.push_back(static_cast<char>(k % 3 == 0 ? 0 : 0xF0 + k));
  s.c_string = "c" + std::to_string(r % 1000);
  return s;
}

struct SiteLines {
  uint32_t scalars = 0;
  uint32_t strings = 0;
  uint32_t no_fields = 0;
  uint32_t wide = 0;
  uint32_t trace = 0;
};

// Both __LINE__ expand in the same invocation, so `line` is the call site's line.
#define LOG_AT(line, level, ...) ((line) = __LINE__, (dry_run || RINGTAIL_LOG(level, __VA_ARGS__)))

// Logs iteration i of thread t. With dry_run (the parent) nothing is logged:
// it only learns the call sites' lines. Returns false if an event was lost.
bool log_iteration(uint32_t t, uint32_t i, bool dry_run, SiteLines& lines) {
  bool ok = true;
  const Scalars s = make_scalars(t, i);
  ok &= LOG_AT(lines.scalars, Level::kInfo, "scalars", kv("t", t), kv("i", i), kv("b", s.b), kv("i8", s.i8),
               kv("i16", s.i16), kv("i32", s.i32), kv("i64", s.i64), kv("u8", s.u8), kv("u16", s.u16), kv("u32", s.u32),
               kv("u64", s.u64), kv("f32", s.f32), kv("f64", s.f64), kv("color", s.color), kv("wide", s.wide),
               kv("ms", s.ms), kv("ns", s.ns), kv("us", s.us), kv("ll", s.ll), kv("us16", s.us16), kv("none", nullptr));
  const Strings str = make_strings(t, i);
  const char* null_string = nullptr;
  ok &= LOG_AT(lines.strings, Level::kWarn, "strings", kv("t", t), kv("i", i),
               kv("view", std::string_view(str.view_backing)), kv("null", null_string), kv("owned", str.owned),
               kv("empty", ""), kv("long", str.long_value), kv("exact", str.exact),
               kv("binary", std::string_view(str.binary)), kv("c_string", str.c_string.c_str()), kv("literal", "lit"));
  if (i % 5 == 0) ok &= LOG_AT(lines.no_fields, Level::kCritical, "no fields");
  if (i % 10 == 0) {
    const int32_t k = static_cast<int32_t>(i);
    ok &= LOG_AT(lines.wide, Level::kDebug, "thirty-two fields", kv("f00", k), kv("f01", k * 0.5), kv("f02", "s2"),
                 kv("f03", true), kv("f04", k + 4), kv("f05", k * 1.5), kv("f06", "s6"), kv("f07", false),
                 kv("f08", k + 8), kv("f09", k * 2.5), kv("f10", "s10"), kv("f11", true), kv("f12", k + 12),
                 kv("f13", k * 3.5), kv("f14", "s14"), kv("f15", false), kv("f16", k + 16), kv("f17", k * 4.5),
                 kv("f18", "s18"), kv("f19", true), kv("f20", k + 20), kv("f21", k * 5.5), kv("f22", "s22"),
                 kv("f23", false), kv("f24", k + 24), kv("f25", k * 6.5), kv("f26", "s26"), kv("f27", true),
                 kv("f28", k + 28), kv("f29", k * 7.5), kv("f30", "s30"), kv("f31", false));
  }
  // Below the segment's level (debug): never written.
  (void)LOG_AT(lines.trace, Level::kTrace, "filtered", kv("i", i));
  return ok;
}

// --- Expected decoded values --------------------------------------------------

struct ExpectedField {
  std::string name;
  shm::FieldType type;
  FieldValue value;
};
using F = shm::FieldType;

FieldValue i64(int64_t v) { return FieldValue(std::in_place_type<int64_t>, v); }
FieldValue u64(uint64_t v) { return FieldValue(std::in_place_type<uint64_t>, v); }
FieldValue str(const std::string& bytes, uint32_t original) {
  return FieldValue(StringValue{bytes, original, original > bytes.size()});
}
FieldValue str(const std::string& bytes) { return str(bytes, static_cast<uint32_t>(bytes.size())); }
FieldValue dur(int64_t ns) { return FieldValue(DurationValue{ns}); }

std::vector<ExpectedField> expected_scalars(uint32_t t, uint32_t i) {
  const Scalars s = make_scalars(t, i);
  return {{"t", F::kU32, u64(t)},
          {"i", F::kU32, u64(i)},
          {"b", F::kBool, FieldValue(s.b)},
          {"i8", F::kI8, i64(s.i8)},
          {"i16", F::kI16, i64(s.i16)},
          {"i32", F::kI32, i64(s.i32)},
          {"i64", F::kI64, i64(s.i64)},
          {"u8", F::kU8, u64(s.u8)},
          {"u16", F::kU16, u64(s.u16)},
          {"u32", F::kU32, u64(s.u32)},
          {"u64", F::kU64, u64(s.u64)},
          {"f32", F::kF32, FieldValue(s.f32)},
          {"f64", F::kF64, FieldValue(s.f64)},
          {"color", F::kI8, i64(static_cast<int8_t>(s.color))},
          {"wide", F::kU16, u64(static_cast<uint16_t>(s.wide))},
          {"ms", F::kDurationNs, dur(std::chrono::duration_cast<std::chrono::nanoseconds>(s.ms).count())},
          {"ns", F::kDurationNs, dur(s.ns.count())},
          {"us", F::kDurationNs, dur(std::chrono::duration_cast<std::chrono::nanoseconds>(s.us).count())},
          {"ll", F::kI64, i64(s.ll)},
          {"us16", F::kU16, u64(s.us16)},
          {"none", F::kNull, FieldValue(NullValue{})}};
}

std::vector<ExpectedField> expected_strings(uint32_t t, uint32_t i) {
  const Strings s = make_strings(t, i);
  return {{"t", F::kU32, u64(t)},
          {"i", F::kU32, u64(i)},
          {"view", F::kString, str(s.view_backing)},
          {"null", F::kString, str("")},
          {"owned", F::kString, str(s.owned)},
          {"empty", F::kString, str("")},
          {"long", F::kString, str(s.long_value.substr(0, kMaxString), static_cast<uint32_t>(s.long_value.size()))},
          {"exact", F::kString, str(s.exact)},
          {"binary", F::kString, str(s.binary)},
          {"c_string", F::kString, str(s.c_string)},
          {"literal", F::kString, str("lit")}};
}

std::vector<ExpectedField> expected_wide(uint32_t i) {
  std::vector<ExpectedField> out;
  const int32_t k = static_cast<int32_t>(i);
  for (int f = 0; f < 32; ++f) {
    char name[8];
    std::snprintf(name, sizeof(name), "f%02d", f);
    switch (f % 4) {
      case 0:
        out.push_back({name, F::kI32, i64(k + f)});
        break;
      case 1:
        out.push_back({name, F::kF64, FieldValue(k * (0.5 + f / 4))});
        break;
      case 2:
        out.push_back({name, F::kString, str("s" + std::to_string(f))});
        break;
      default:
        out.push_back({name, F::kBool, FieldValue(f % 8 == 3)});
        break;
    }
  }
  return out;
}

struct ExpectedEvent {
  std::string message;
  Level level;
  uint32_t line;
  std::vector<ExpectedField> fields;
};

std::vector<ExpectedEvent> expected_thread_events(uint32_t t, const SiteLines& lines) {
  std::vector<ExpectedEvent> out;
  for (uint32_t i = 0; i < kIterations; ++i) {
    out.push_back({"scalars", Level::kInfo, lines.scalars, expected_scalars(t, i)});
    out.push_back({"strings", Level::kWarn, lines.strings, expected_strings(t, i)});
    if (i % 5 == 0) out.push_back({"no fields", Level::kCritical, lines.no_fields, {}});
    if (i % 10 == 0) out.push_back({"thirty-two fields", Level::kDebug, lines.wide, expected_wide(i)});
  }
  return out;
}

std::string file_tail(std::string file) { return file.size() > 160 ? file.substr(file.size() - 160) : file; }

Options small_options(const std::string& service) {
  Options options;
  options.service = service;
  options.min_level = Level::kDebug;
  options.ring_bytes = uint64_t{1} << 20;
  options.max_threads = 8;
  options.max_callsites = 16;
  options.max_string_bytes = kMaxString;
  return options;
}

// Logs every iteration on kThreads threads (thread 0 is the child's main
// thread), then sends {t, tid} for each to the parent.
int roundtrip_child(ProducerChild::Link& link) {
  std::atomic<bool> ok{true};
  uint32_t tids[kThreads] = {};
  // Every thread holds its ring before any finishes, so that no retired ring
  // is reused and each thread has a ring of its own.
  std::barrier all_claimed(kThreads);
  auto work = [&](uint32_t t) {
    const std::string name = "rt-w" + std::to_string(t);
    pthread_setname_np(pthread_self(), name.c_str());
    tids[t] = static_cast<uint32_t>(::syscall(SYS_gettid));
    SiteLines lines;
    for (uint32_t i = 0; i < kIterations; ++i) {
      if (!log_iteration(t, i, /*dry_run=*/false, lines)) ok = false;
      if (i == 0) all_claimed.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  for (uint32_t t = 1; t < kThreads; ++t) threads.emplace_back(work, t);
  work(0);
  for (std::thread& thread : threads) thread.join();
  if (!link.send(tids, sizeof(tids))) return 2;
  return ok ? 0 : 3;
}

TEST(IngestRoundTrip, EveryFieldTypeFromSeveralThreads) {
  SiteLines lines;
  log_iteration(0, 0, /*dry_run=*/true, lines);
  ASSERT_NE(lines.scalars, 0u);
  ASSERT_NE(lines.scalars, lines.strings);

  ProducerChild child = ProducerChild::start(small_options("rt-roundtrip"), roundtrip_child);
  ASSERT_TRUE(child.ok()) << child.error();
  uint32_t tids[kThreads] = {};
  ASSERT_TRUE(child.receive(tids, sizeof(tids)));
  ASSERT_EQ(child.join(), 0);

  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->identity().pid, static_cast<uint32_t>(child.pid()));
  EXPECT_EQ(view->identity().service, "rt-roundtrip");
  EXPECT_EQ(view->identity().max_string_bytes, kMaxString);
  absl::StatusOr<shm::SegmentState> state = view->state();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(*state, shm::SegmentState::kFinished);
  EXPECT_EQ(view->loss_counters().lost_no_ring, 0u);
  EXPECT_EQ(view->loss_counters().lost_callsite_table_full, 0u);
  EXPECT_EQ(view->loss_counters().threads_started, kThreads);

  absl::StatusOr<Drainer> drainer = Drainer::create(*view);
  ASSERT_TRUE(drainer.ok()) << drainer.status();
  ASSERT_TRUE(drainer->drain());
  ASSERT_TRUE(drainer->table_status().ok()) << drainer->table_status();
  EXPECT_EQ(drainer->table().size(), 4u);  // the filtered trace site was never described
  EXPECT_EQ(drainer->table().invalid_count(), 0u);

  std::map<uint32_t, uint32_t> thread_of_tid;
  for (uint32_t t = 0; t < kThreads; ++t) thread_of_tid[tids[t]] = t;
  ASSERT_EQ(thread_of_tid.size(), kThreads);

  const uint64_t earliest = view->identity().created_realtime_ns - 60'000'000'000ULL;
  const uint64_t latest = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count()) +
                          60'000'000'000ULL;

  uint32_t rings_used = 0;
  uint64_t total_events = 0;
  for (uint32_t slot = 0; slot < view->slot_count(); ++slot) {
    const testing::RingResult& ring = drainer->rings()[slot];
    ASSERT_TRUE(ring.status.ok()) << ring.status;
    absl::StatusOr<RingSlotSnapshot> snapshot = view->slot_snapshot(slot);
    ASSERT_TRUE(snapshot.ok());
    EXPECT_EQ(snapshot->read_pos_untrusted, snapshot->write_pos_untrusted) << "ring " << slot << " not committed";
    if (ring.items.empty()) continue;
    ++rings_used;
    EXPECT_EQ(snapshot->dropped_full_untrusted + snapshot->dropped_too_big_untrusted, 0u);

    const auto* start = std::get_if<ThreadStart>(&ring.items.front());
    ASSERT_NE(start, nullptr) << "ring " << slot << " does not begin with a thread start";
    EXPECT_EQ(start->seq, 0u);
    ASSERT_TRUE(thread_of_tid.count(start->tid)) << "unknown tid " << start->tid;
    const uint32_t t = thread_of_tid[start->tid];
    EXPECT_EQ(start->thread_name, "rt-w" + std::to_string(t));
    EXPECT_TRUE(testing::gaps_of(ring.items).empty());

    const std::vector<const DecodedEvent*> events = testing::events_of(ring.items);
    const std::vector<ExpectedEvent> expected = expected_thread_events(t, lines);
    ASSERT_EQ(events.size(), expected.size()) << "thread " << t;
    total_events += events.size();
    uint64_t last_timestamp = 0;
    for (size_t k = 0; k < events.size(); ++k) {
      const DecodedEvent& e = *events[k];
      const ExpectedEvent& x = expected[k];
      SCOPED_TRACE("thread " + std::to_string(t) + " event " + std::to_string(k) + " (" + x.message + ")");
      EXPECT_EQ(e.slot_index, slot);
      EXPECT_EQ(e.tid, start->tid);
      EXPECT_EQ(e.thread_name, start->thread_name);
      EXPECT_TRUE(e.owner_known);
      EXPECT_EQ(e.seq, k);
      EXPECT_GE(e.timestamp_raw, last_timestamp);
      last_timestamp = e.timestamp_raw;
      const std::optional<uint64_t> realtime = to_realtime_ns(view->clock(), e.timestamp_raw);
      ASSERT_TRUE(realtime.has_value());
      EXPECT_GE(*realtime, earliest);
      EXPECT_LE(*realtime, latest);

      ASSERT_NE(e.callsite, nullptr);
      EXPECT_EQ(e.callsite->id, e.callsite_id);
      EXPECT_EQ(e.callsite->message, x.message);
      EXPECT_EQ(e.callsite->level, x.level);
      EXPECT_EQ(e.callsite->line, x.line);
      EXPECT_EQ(e.callsite->file, file_tail(__FILE__));
      EXPECT_EQ(e.callsite->function, "log_iteration");
      ASSERT_EQ(e.fields.size(), x.fields.size());
      ASSERT_EQ(e.callsite->fields.size(), x.fields.size());
      for (size_t f = 0; f < x.fields.size(); ++f) {
        EXPECT_EQ(e.fields[f].name, x.fields[f].name);
        EXPECT_EQ(e.callsite->fields[f].name, x.fields[f].name);
        EXPECT_EQ(e.fields[f].type, x.fields[f].type) << x.fields[f].name;
        EXPECT_TRUE(testing::same_value(e.fields[f].value, x.fields[f].value))
            << x.fields[f].name << ": got " << testing::describe(e.fields[f].value) << ", expected "
            << testing::describe(x.fields[f].value);
      }
    }
  }
  EXPECT_EQ(rings_used, kThreads);
  EXPECT_GT(total_events, 0u);
}

// Peek reads without moving read_pos; a consumer then reads the same records,
// and an uncommitted batch is read again by a fresh cursor.
TEST(IngestRoundTrip, PeekThenConsumeAndUncommittedBatchesAreReread) {
  ProducerChild child = ProducerChild::start(small_options("rt-peek"), [](ProducerChild::Link&) {
    for (uint32_t i = 0; i < 500; ++i) RINGTAIL_INFO("peek", kv("i", i), kv("s", std::string(i % 40, 'p')));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);

  absl::StatusOr<SegmentView> ro = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ(RingCursor::create(*ro, 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ro->store_read_pos(0, 8).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RingCursor::create(*ro, ro->slot_count()).status().code(), absl::StatusCode::kInvalidArgument);

  RingCursorOptions peek;
  peek.mode = RingCursorOptions::Mode::kPeek;
  peek.max_batch_bytes = 512;  // many small batches
  absl::StatusOr<Drainer> peeker = Drainer::create(*ro, peek);
  ASSERT_TRUE(peeker.ok()) << peeker.status();
  ASSERT_TRUE(peeker->drain());
  const std::vector<const DecodedEvent*> peeked = testing::events_of(peeker->rings()[0].items);
  ASSERT_EQ(peeked.size(), 500u);
  EXPECT_GT(peeker->rings()[0].batches, 10u);
  EXPECT_EQ(ro->slot_snapshot(0)->read_pos_untrusted, 0u);

  absl::StatusOr<SegmentView> rw = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(rw.ok()) << rw.status();
  CallSiteTable table(*rw);
  ASSERT_TRUE(table.refresh().ok());
  RingCursorOptions small;
  small.max_batch_bytes = 1024;
  {
    absl::StatusOr<RingCursor> first = RingCursor::create(*rw, 0, small);
    ASSERT_TRUE(first.ok());
    testing::CollectingSink sink;
    BatchStats stats;
    ASSERT_TRUE(first->read_batch(table, sink, &stats).ok());
    EXPECT_FALSE(stats.caught_up);
    EXPECT_GE(stats.bytes, 1024u);
    // Not committed: read_pos stays, a restarted reader starts over.
  }
  EXPECT_EQ(rw->slot_snapshot(0)->read_pos_untrusted, 0u);

  absl::StatusOr<RingCursor> consumer = RingCursor::create(*rw, 0);
  ASSERT_TRUE(consumer.ok());
  testing::CollectingSink sink;
  BatchStats stats;
  ASSERT_TRUE(consumer->read_batch(table, sink, &stats).ok());
  EXPECT_TRUE(stats.caught_up);
  consumer->commit();
  EXPECT_EQ(rw->slot_snapshot(0)->read_pos_untrusted, consumer->position());
  EXPECT_EQ(consumer->committed_position(), consumer->position());
  const std::vector<const DecodedEvent*> consumed = testing::events_of(sink.items);
  ASSERT_EQ(consumed.size(), peeked.size());
  for (size_t k = 0; k < consumed.size(); ++k) {
    EXPECT_EQ(consumed[k]->seq, peeked[k]->seq);
    EXPECT_EQ(consumed[k]->timestamp_raw, peeked[k]->timestamp_raw);
    ASSERT_EQ(consumed[k]->fields.size(), 2u);
    EXPECT_TRUE(testing::same_value(consumed[k]->fields[0].value, peeked[k]->fields[0].value));
    EXPECT_TRUE(testing::same_value(consumed[k]->fields[1].value, peeked[k]->fields[1].value));
    EXPECT_EQ(std::get<uint64_t>(consumed[k]->fields[0].value), k);
  }

  // A resumed consumer finds nothing new; so does a peeker now.
  absl::StatusOr<RingCursor> resumed = RingCursor::create(*rw, 0);
  ASSERT_TRUE(resumed.ok());
  testing::CollectingSink none;
  ASSERT_TRUE(resumed->read_batch(table, none, &stats).ok());
  EXPECT_TRUE(none.items.empty());
  EXPECT_TRUE(stats.caught_up);
  EXPECT_TRUE(resumed->report_trailing_drops(none).ok());
  EXPECT_TRUE(none.items.empty());
}

// A cursor resuming mid-ring (read_pos > 0) takes the owner from the slot and
// the first record's seq as given.
TEST(IngestRoundTrip, ResumedCursorTakesOwnerFromDirectory) {
  ProducerChild child = ProducerChild::start(small_options("rt-resume"), [](ProducerChild::Link&) {
    pthread_setname_np(pthread_self(), "rt-resume");
    for (uint32_t i = 0; i < 100; ++i) RINGTAIL_INFO("resume", kv("i", i));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  absl::StatusOr<SegmentView> view = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(view.ok()) << view.status();
  CallSiteTable table(*view);
  ASSERT_TRUE(table.refresh().ok());
  RingCursorOptions small;
  small.max_batch_bytes = 8;  // one record per batch
  {
    absl::StatusOr<RingCursor> cursor = RingCursor::create(*view, 0, small);
    ASSERT_TRUE(cursor.ok());
    testing::CollectingSink sink;
    for (int k = 0; k < 11; ++k) ASSERT_TRUE(cursor->read_batch(table, sink).ok());  // thread start + 10 events
    ASSERT_EQ(sink.items.size(), 11u);
    cursor->commit();
  }
  absl::StatusOr<RingCursor> resumed = RingCursor::create(*view, 0);
  ASSERT_TRUE(resumed.ok());
  testing::CollectingSink sink;
  ASSERT_TRUE(resumed->read_batch(table, sink).ok());
  const std::vector<const DecodedEvent*> events = testing::events_of(sink.items);
  ASSERT_EQ(events.size(), 90u);
  EXPECT_TRUE(testing::gaps_of(sink.items).empty());
  EXPECT_EQ(events.front()->seq, 10u);
  EXPECT_FALSE(events.front()->owner_known);
  EXPECT_EQ(events.front()->thread_name, "rt-resume");
  EXPECT_EQ(events.front()->tid, view->slot_snapshot(0)->os_tid_untrusted);
  EXPECT_EQ(events.back()->seq, 99u);
}

}  // namespace
}  // namespace ringtail::reader
