// The call-site table: one entry per RINGTAIL_LOG statement however many
// threads race to first use it, unique dense ids, the entry's contents, and
// what happens when the table is full.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fork_child.hpp"
#include "producer_options.hpp"
#include "ringtail/ringtail.hpp"
#include "segment_view.hpp"

// In ringtail::test: the core tests use its fork harness (ForkedChild,
// ChildChannel, ChildOutcome), SegmentView and small_options() as they are.
namespace ringtail::test {
namespace {

using shm::FieldType;

// Each instantiation is a call site of its own; N % 4 picks one of four
// shapes, on four consecutive lines. Every shape carries N in its field "n".
// clang-format off
constexpr uint32_t kKindLine = __LINE__ + 3;  // the line of kind 0
template <int N>
bool distinct_site() {
  if constexpr (N % 4 == 0) return RINGTAIL_INFO("kind zero", ringtail::kv("n", int32_t{N}));
  else if constexpr (N % 4 == 1) return RINGTAIL_WARN("kind one", ringtail::kv("ratio", 0.5 * N), ringtail::kv("n", uint64_t{N}));
  else if constexpr (N % 4 == 2) return RINGTAIL_ERROR("kind two", ringtail::kv("label", "abc"), ringtail::kv("n", int16_t{N}), ringtail::kv("flag", N % 3 == 0), ringtail::kv("elapsed", std::chrono::microseconds(N)), ringtail::kv("none", nullptr));
  else return RINGTAIL_TRACE("kind three", ringtail::kv("n", static_cast<uint16_t>(N)));
}
// clang-format on

using SiteFn = bool (*)();

template <int Base, int... I>
std::vector<SiteFn> sites(std::integer_sequence<int, I...>) {
  return {&distinct_site<Base + I>...};
}

// Calls every site of `fns` on `thread_count` threads released together;
// thread t walks them from site (t * stride) % fns.size() on, wrapping
// around. Returns how many calls did not commit.
int race_sites(int thread_count, const std::vector<SiteFn>& fns, int stride) {
  const int count = static_cast<int>(fns.size());
  std::latch start(thread_count);
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();  // every thread reaches each site's first use together
      for (int i = 0; i < count; ++i) {
        if (!fns[(i + t * stride) % count]()) ++failed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return failed.load();
}

struct Shape {
  Level level;
  const char* message;
  std::vector<FieldType> types;
  std::vector<std::string> names;
};

Shape shape_of(int n) {
  switch (n % 4) {
    case 0:
      return {Level::kInfo, "kind zero", {FieldType::kI32}, {"n"}};
    case 1:
      return {Level::kWarn, "kind one", {FieldType::kF64, FieldType::kU64}, {"ratio", "n"}};
    case 2:
      return {Level::kError,
              "kind two",
              {FieldType::kString, FieldType::kI16, FieldType::kBool, FieldType::kDurationNs, FieldType::kNull},
              {"label", "n", "flag", "elapsed", "none"}};
    default:
      return {Level::kTrace, "kind three", {FieldType::kU16}, {"n"}};
  }
}

// The value of field "n" of an event of distinct_site<N>.
int64_t n_of(const SegmentView& seg, const Record& r) {
  const std::vector<FieldValue> values = seg.fields(r);
  const SiteText text = seg.site_text(r.callsite_id);
  for (size_t i = 0; i < values.size() && i < text.field_names.size(); ++i) {
    if (text.field_names[i] == "n") return values[i].as_i64();
  }
  ADD_FAILURE() << "event of site " << r.callsite_id << " has no field n";
  return -1;
}

// Checks entry `id` describes distinct_site<n>.
void expect_entry_of(const SegmentView& seg, uint32_t id, int n) {
  SCOPED_TRACE("call site " + std::to_string(id) + ", N " + std::to_string(n));
  const shm::CallSiteEntry& e = seg.entry(id);
  const Shape shape = shape_of(n);
  EXPECT_EQ(e.id, id);
  EXPECT_EQ(e.level, static_cast<uint8_t>(shape.level));
  EXPECT_EQ(e.line, kKindLine + n % 4);
  ASSERT_EQ(e.field_count, shape.types.size());
  for (size_t i = 0; i < shape.types.size(); ++i) EXPECT_EQ(e.field_types[i], static_cast<uint8_t>(shape.types[i]));
  const SiteText text = seg.site_text(id);
  EXPECT_EQ(text.message, shape.message);
  EXPECT_TRUE(text.file.ends_with("tests/core/callsite_test.cpp")) << text.file;
  EXPECT_EQ(text.function, "distinct_site");
  EXPECT_EQ(text.field_names, shape.names);
}

// Checks an event's values against what distinct_site<n> logs.
void expect_values_of(const SegmentView& seg, const Record& r, int n) {
  const std::vector<FieldValue> v = seg.fields(r);
  switch (n % 4) {
    case 0:
      ASSERT_EQ(v.size(), 1U);
      EXPECT_EQ(v[0].as_i64(), n);
      break;
    case 1:
      ASSERT_EQ(v.size(), 2U);
      EXPECT_EQ(v[0].as_f64(), 0.5 * n);
      EXPECT_EQ(v[1].word, static_cast<uint64_t>(n));
      break;
    case 2:
      ASSERT_EQ(v.size(), 5U);
      EXPECT_EQ(v[0].text, "abc");
      EXPECT_EQ(v[0].original_bytes, 3U);
      EXPECT_TRUE(v[0].padding_zero);
      EXPECT_EQ(v[1].as_i64(), n);
      EXPECT_EQ(v[2].word, n % 3 == 0 ? 1U : 0U);
      EXPECT_EQ(v[3].as_i64(), n * 1000);
      EXPECT_EQ(v[4].word, 0U);  // kv("none", nullptr): a zero word
      break;
    default:
      ASSERT_EQ(v.size(), 1U);
      EXPECT_EQ(v[0].word, static_cast<uint64_t>(n));
  }
}

TEST(CallSiteTest, ConcurrentFirstUseDescribesEachSiteOnce) {
  constexpr int kThreads = 16;
  constexpr int kSites = 20;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_threads = kThreads;
    options.min_level = Level::kTrace;
    CHILD_EXPECT(ch, init(options).ok());
    const std::vector<SiteFn> fns = sites<200>(std::make_integer_sequence<int, kSites>());
    CHILD_EXPECT_EQ(ch, race_sites(kThreads, fns, /*stride=*/0), 0);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  ASSERT_EQ(seg->callsite_count(), uint32_t{kSites});
  std::map<uint32_t, std::set<int64_t>> ns_by_id;
  std::map<int64_t, int> events_by_n;
  for (const Record& r : seg->all_records()) {
    if (!r.is_event()) continue;
    const int64_t n = n_of(*seg, r);
    ns_by_id[r.callsite_id].insert(n);
    ++events_by_n[n];
  }
  // Every id names exactly one site, and every site has exactly one id.
  ASSERT_EQ(ns_by_id.size(), size_t{kSites});
  std::set<int64_t> all_ns;
  for (const auto& [id, ns] : ns_by_id) {
    EXPECT_EQ(ns.size(), 1U) << "call site " << id << " was used by several statements";
    all_ns.insert(ns.begin(), ns.end());
  }
  EXPECT_EQ(all_ns.size(), size_t{kSites}) << "a statement was described twice";
  for (const auto& [n, count] : events_by_n) EXPECT_EQ(count, kThreads) << "site " << n;
  for (const auto& [id, ns] : ns_by_id) expect_entry_of(*seg, id, static_cast<int>(*ns.begin()));
}

TEST(CallSiteTest, ManyDistinctSitesFromManyThreadsGetDenseUniqueIds) {
  constexpr int kThreads = 8;
  constexpr int kSites = 100;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_threads = kThreads;
    options.min_level = Level::kTrace;
    CHILD_EXPECT(ch, init(options).ok());
    const std::vector<SiteFn> fns = sites<0>(std::make_integer_sequence<int, kSites>());
    // Each thread walks the sites from its own starting point.
    CHILD_EXPECT_EQ(ch, race_sites(kThreads, fns, /*stride=*/13), 0);
    CHILD_EXPECT_EQ(ch, loss_counters().callsite_table_full, 0U);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  ASSERT_EQ(seg->callsite_count(), uint32_t{kSites});

  std::map<uint32_t, int64_t> n_by_id;
  std::map<int64_t, uint32_t> id_by_n;
  size_t events = 0;
  for (const Record& r : seg->all_records()) {
    if (!r.is_event()) continue;
    ++events;
    ASSERT_LT(r.callsite_id, uint32_t{kSites});
    const int64_t n = n_of(*seg, r);
    auto [it, fresh] = n_by_id.emplace(r.callsite_id, n);
    EXPECT_EQ(it->second, n) << "call site " << r.callsite_id << " logged by two statements";
    auto [it2, fresh2] = id_by_n.emplace(n, r.callsite_id);
    EXPECT_EQ(it2->second, r.callsite_id) << "statement " << n << " has two ids";
    expect_values_of(*seg, r, static_cast<int>(n));
  }
  EXPECT_EQ(events, size_t{kThreads} * kSites);
  ASSERT_EQ(n_by_id.size(), size_t{kSites});
  // Ids are exactly 0..n-1 (the map is ordered), and each entry describes its statement.
  EXPECT_EQ(n_by_id.begin()->first, 0U);
  EXPECT_EQ(n_by_id.rbegin()->first, uint32_t{kSites} - 1);
  for (const auto& [id, n] : n_by_id) expect_entry_of(*seg, id, static_cast<int>(n));
}

TEST(CallSiteTest, FullTableDropsNewSitesAndKeepsEarlierOnes) {
  constexpr int kCapacity = 16;
  constexpr int kSites = 20;
  ForkedChild child = ForkedChild::start([](ChildChannel& ch) {
    Options options = small_options();
    options.max_callsites = kCapacity;
    options.min_level = Level::kTrace;
    CHILD_EXPECT(ch, init(options).ok());
    const std::vector<SiteFn> fns = sites<300>(std::make_integer_sequence<int, kSites>());
    for (int pass = 1; pass <= 2; ++pass) {
      for (int i = 0; i < kSites; ++i) {
        const bool committed = fns[i]();
        if (!CHILD_EXPECT_EQ(ch, committed, i < kCapacity)) ch.value("site", i);
      }
      CHILD_EXPECT_EQ(ch, loss_counters().callsite_table_full, uint64_t(pass * (kSites - kCapacity)));
    }
    // Another thread fares the same: old sites work, new ones are refused.
    bool old_site = false, new_site = true;
    std::thread other([&] {
      old_site = fns[0]();
      new_site = fns[kSites - 1]();
    });
    other.join();
    CHILD_EXPECT(ch, old_site);
    CHILD_EXPECT(ch, !new_site);
    CHILD_EXPECT_EQ(ch, loss_counters().callsite_table_full, uint64_t(2 * (kSites - kCapacity) + 1));
    CHILD_EXPECT_EQ(ch, loss_counters().no_ring, 0U);
    return 0;
  });
  std::optional<SegmentView> seg = SegmentView::open_after_exit(child);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->callsite_count(), uint32_t{kCapacity});
  EXPECT_EQ(seg->header().lost_callsite_table_full.load(), uint64_t{2 * (kSites - kCapacity) + 1});
  std::map<uint32_t, int> events_by_id;
  for (const Record& r : seg->all_records()) {
    if (!r.is_event()) continue;
    ASSERT_LT(r.callsite_id, uint32_t{kCapacity});
    ++events_by_id[r.callsite_id];
    // Single-threaded first use: site i got id i.
    EXPECT_EQ(n_of(*seg, r), 300 + r.callsite_id);
  }
  EXPECT_EQ(events_by_id.size(), size_t{kCapacity});
  EXPECT_EQ(events_by_id[0], 3);
  EXPECT_EQ(events_by_id[1], 2);
  for (uint32_t id = 0; id < kCapacity; ++id) expect_entry_of(*seg, id, 300 + static_cast<int>(id));
}

}  // namespace
}  // namespace ringtail::test
