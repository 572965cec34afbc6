// Sampling (RINGTAIL_SAMPLE) through real producers and the real drain: kept
// fractions within statistical bounds, sampled-out events counted apart from
// drops (and spending no seq), rule precedence, per-trace decisions (a trace
// is kept or left out whole), live changes through the real `ringtail
// sample` tool, and bad rules failing init.
//
// Statistical bounds are 5 standard deviations of the binomial count: a
// correct sampler fails one in about 1.7 million runs.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "drain_test_support.hpp"
#include "fork_child.hpp"
#include "producer_child.hpp"
#include "ringtail/reader/drain/drain_engine.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/sample_rules.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using testing::Line;
using testing::MemorySink;
using testing::parse_lines;

Options sampling_options(std::string rules) {
  Options options;
  options.service = "sampling-test";
  options.ring_bytes = 4 << 20;  // room for every kept event: nothing is dropped
  options.max_threads = 2;
  options.sample = std::move(rules);
  return options;
}

// |kept - n p| within 5 standard deviations of a binomial(n, p) count.
void expect_binomial(int64_t kept, int64_t n, double p, const std::string& what) {
  const double mean = static_cast<double>(n) * p;
  const double bound = 5.0 * std::sqrt(static_cast<double>(n) * p * (1.0 - p));
  EXPECT_LE(std::abs(static_cast<double>(kept) - mean), bound)
      << what << ": kept " << kept << " of " << n << ", expected " << mean << " +- " << bound;
}

// Totals of the segment's ring counters, read before the drain removes it.
struct RingTotals {
  uint64_t committed = 0;
  uint64_t sampled_out = 0;
  uint64_t dropped = 0;
};
RingTotals ring_totals(const std::string& segment) {
  RingTotals totals;
  absl::StatusOr<SegmentView> view = SegmentView::open(segment, SegmentView::Access::kReadOnly);
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return totals;
  for (uint32_t i = 0; i < view->slot_count(); ++i) {
    const shm::RingSlot* slot = *view->slot(i);
    totals.committed += slot->committed.load();
    totals.sampled_out += slot->sampled_out.load();
    totals.dropped += slot->dropped_full.load() + slot->dropped_too_big.load();
  }
  return totals;
}

// Drains a producer that has exited; its lines.
std::vector<Line> drain(pid_t pid) {
  MemorySink sink;
  DrainOptions options;
  options.discovery.pids = {pid};
  DrainEngine engine(options, sink, nullptr);
  EXPECT_TRUE(engine.drain_once().ok());
  return parse_lines(sink.text);
}

size_t count_message(const std::vector<Line>& lines, const std::string& message) {
  size_t n = 0;
  for (const Line& line : lines) n += line.message == message;
  return n;
}

// `ringtail args...` run to its end: its exit code, and its stdout then its stderr.
struct ToolRun {
  int rc = -1;
  std::string out;
};
ToolRun run_ringtail(const std::vector<std::string>& args) {
  const ringtail::test::Result result = ringtail::test::run(args);
  return {result.code, result.out + result.err};
}

// ---------------------------------------------------------------------------
// (a) A level rule keeps its fraction; the rest are counted, not dropped.

constexpr int kEvents = 20000;

TEST(Sampling, LevelRuleKeepsItsFractionAndCountsTheRest) {
  ProducerChild child = ProducerChild::start(sampling_options("info=0.1"), [](ProducerChild::Link& link) {
    int32_t kept = 0;
    for (int i = 0; i < kEvents; ++i) kept += RINGTAIL_INFO("sampled.info", kv("i", i));
    // Other levels have no rule: every one is kept.
    for (int i = 0; i < 100; ++i) kept += RINGTAIL_WARN("unsampled.warn", kv("i", i));
    link.send(&kept, sizeof(kept));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  int32_t kept_in_child = 0;
  ASSERT_TRUE(child.receive(&kept_in_child, sizeof(kept_in_child)));
  ASSERT_EQ(child.join(), 0);

  const RingTotals totals = ring_totals(child.segment_name());
  const std::vector<Line> lines = drain(child.pid());
  const std::vector<Line> info = testing::with_message(lines, "sampled.info");
  const int64_t kept = static_cast<int64_t>(info.size());
  expect_binomial(kept, kEvents, 0.1, "info=0.1");
  EXPECT_EQ(count_message(lines, "unsampled.warn"), 100U);
  EXPECT_EQ(kept + 100, kept_in_child);
  // Every event is either kept or counted as sampled out.
  EXPECT_EQ(static_cast<uint64_t>(kept) + totals.sampled_out, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(totals.committed, static_cast<uint64_t>(kept) + 100);
  // Sampling is not a loss: no drop, no gap, and the kept events' seqs follow one another.
  EXPECT_EQ(totals.dropped, 0U);
  EXPECT_EQ(count_message(lines, "ringtail.dropped"), 0U);
  std::vector<uint64_t> seqs;
  for (const Line& line : lines) {
    if (line.seq.has_value()) seqs.push_back(*line.seq);
  }
  for (size_t i = 1; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "a seq was spent at line " << i;
}

// ---------------------------------------------------------------------------
// (b) Precedence: site beats msg beats level; rate 0 keeps none, 1 keeps all.

// The site a site: rule names: its RINGTAIL_INFO is on kOverrideLine.
constexpr uint32_t kOverrideLine = __LINE__ + 1;
bool log_site_override(int i) { return RINGTAIL_INFO("site.override", kv("i", i)); }

// The reader's access to the sampling words (SegmentView): only through a
// writable view, bounds-checked, and what is stored is what the producer reads.
TEST(Sampling, SegmentViewGuardsTheSamplingWords) {
  ProducerChild child = ProducerChild::start(sampling_options("info=0.5"), [](ProducerChild::Link& link) {
    RINGTAIL_INFO("one site");
    return link.signal() && link.wait() ? 0 : 1;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_TRUE(child.wait_signal());
  absl::StatusOr<SegmentView> read_only = SegmentView::open(child.segment_name(), SegmentView::Access::kReadOnly);
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  EXPECT_EQ(read_only->sample_rules_untrusted().value_or("?"), "info=0.5");
  EXPECT_EQ(read_only->sample_keep_untrusted(0).value_or(0), shm::keep_word(0.5)) << "the producer's own rule";
  EXPECT_EQ(read_only->store_sample_rules("").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(read_only->store_sample_keep(0, 0).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(read_only->sample_keep_untrusted(read_only->callsite_capacity()).status().code(),
            absl::StatusCode::kOutOfRange);

  absl::StatusOr<SegmentView> writable = SegmentView::open(child.segment_name(), SegmentView::Access::kReadWrite);
  ASSERT_TRUE(writable.ok()) << writable.status();
  ASSERT_TRUE(writable->store_sample_rules("debug=0.25").ok());
  ASSERT_TRUE(writable->store_sample_keep(0, 1).ok());
  EXPECT_EQ(read_only->sample_rules_untrusted().value_or("?"), "debug=0.25") << "one mapping, seen by the other";
  EXPECT_EQ(read_only->sample_keep_untrusted(0).value_or(0), 1u);
  EXPECT_FALSE(writable->store_sample_rules(std::string(shm::kSampleRulesBytes + 1, 'x')).ok());
  EXPECT_EQ(writable->sample_rules_untrusted().value_or("?"), "debug=0.25") << "a rejected text changes nothing";
  EXPECT_EQ(writable->store_sample_keep(writable->callsite_capacity(), 0).code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(child.resume());
  EXPECT_EQ(child.join(), 0);
}

TEST(Sampling, SiteBeatsMessageBeatsLevel) {
  const std::string rules = "info=0, msg:site.override=0, msg:msg.one=1, msg:msg.zero=0, warn=1, site:" +
                            std::filesystem::path(__FILE__).filename().string() + ":" + std::to_string(kOverrideLine) +
                            "=1";
  ProducerChild child = ProducerChild::start(sampling_options(rules), [](ProducerChild::Link& link) {
    int32_t kept[5] = {};
    for (int i = 0; i < 1000; ++i) {
      kept[0] += log_site_override(i);                     // site=1 over msg=0 and info=0: all
      kept[1] += RINGTAIL_INFO("level.zero", kv("i", i));  // info=0: none
      kept[2] += RINGTAIL_INFO("msg.one", kv("i", i));     // msg=1 over info=0: all
      kept[3] += RINGTAIL_WARN("msg.zero", kv("i", i));    // msg=0 over warn=1: none
      kept[4] += RINGTAIL_ERROR("no.rule", kv("i", i));    // no rule: all
    }
    const ringtail::EmitResult result = RINGTAIL_TRY_LOG(Level::kInfo, "level.zero.try", kv("i", 0));
    link.send(kept, sizeof(kept));
    return result == ringtail::EmitResult::kSampledOut ? 0 : 3;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  int32_t kept[5] = {};
  ASSERT_TRUE(child.receive(kept, sizeof(kept)));
  ASSERT_EQ(child.join(), 0) << "RINGTAIL_TRY_LOG did not report kSampledOut";
  EXPECT_EQ(kept[0], 1000);
  EXPECT_EQ(kept[1], 0);
  EXPECT_EQ(kept[2], 1000);
  EXPECT_EQ(kept[3], 0);
  EXPECT_EQ(kept[4], 1000);

  const RingTotals totals = ring_totals(child.segment_name());
  EXPECT_EQ(totals.sampled_out, 2001U);
  const std::vector<Line> lines = drain(child.pid());
  EXPECT_EQ(count_message(lines, "site.override"), 1000U);
  EXPECT_EQ(count_message(lines, "level.zero"), 0U);
  EXPECT_EQ(count_message(lines, "msg.one"), 1000U);
  EXPECT_EQ(count_message(lines, "msg.zero"), 0U);
  EXPECT_EQ(count_message(lines, "no.rule"), 1000U);
}

// ---------------------------------------------------------------------------
// Per trace: every event of a span's trace shares one draw.

TEST(Sampling, ATraceIsKeptOrLeftOutWhole) {
  constexpr int kSpans = 400;
  constexpr int kPerSpan = 10;
  ProducerChild child =
      ProducerChild::start(sampling_options("msg:traced.event=0.5,msg:traced.rare=0.2"), [](ProducerChild::Link&) {
        for (int s = 0; s < kSpans; ++s) {
          ringtail::Span span("unit", kv("span", s));
          for (int j = 0; j < kPerSpan; ++j) RINGTAIL_INFO("traced.event", kv("span", s), kv("j", j));
          RINGTAIL_INFO("traced.rare", kv("span", s));
        }
        return 0;
      });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);
  const std::vector<Line> lines = drain(child.pid());
  std::map<int64_t, int> events_of;  // span -> kept traced.event lines
  std::map<int64_t, int> rare_of;
  for (const Line& line : lines) {
    if (line.message == "traced.event") ++events_of[line.get("span")];
    if (line.message == "traced.rare") ++rare_of[line.get("span")];
  }
  for (const auto& [span, n] : events_of) EXPECT_EQ(n, kPerSpan) << "span " << span << " was kept in part";
  expect_binomial(static_cast<int64_t>(events_of.size()), kSpans, 0.5, "spans kept at 0.5");
  expect_binomial(static_cast<int64_t>(rare_of.size()), kSpans, 0.2, "spans kept at 0.2");
  // One draw per trace: what the lower rate keeps, the higher rate keeps too.
  for (const auto& [span, n] : rare_of) EXPECT_TRUE(events_of.count(span) != 0) << "span " << span;
}

// ---------------------------------------------------------------------------
// Outside a trace, a fork child draws its own stream, not a copy of its parent's.

uint64_t keep_pattern() {
  uint64_t bits = 0;
  for (int i = 0; i < 64; ++i) bits |= uint64_t{RINGTAIL_INFO("forked.event", kv("i", i))} << i;
  return bits;
}

TEST(Sampling, AForkChildDoesNotRepeatItsParentsDraws) {
  ProducerChild child = ProducerChild::start(sampling_options("info=0.5"), [](ProducerChild::Link& link) {
    (void)keep_pattern();  // registers the site and seeds this thread's generator
    int up[2];
    if (::pipe(up) != 0) return 3;
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      const uint64_t bits = keep_pattern();  // in the grandchild's own segment
      shm::SegmentFile::remove(ringtail::segment_name());
      ::_exit(::write(up[1], &bits, sizeof(bits)) == sizeof(bits) ? 0 : 1);
    }
    const uint64_t parent_bits = keep_pattern();
    uint64_t child_bits = 0;
    const bool got = ::read(up[0], &child_bits, sizeof(child_bits)) == sizeof(child_bits);
    int status = 0;
    ::waitpid(grandchild, &status, 0);
    link.send(&parent_bits, sizeof(parent_bits));
    link.send(&child_bits, sizeof(child_bits));
    return got ? 0 : 4;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  uint64_t bits[2] = {};
  ASSERT_TRUE(child.receive(bits, sizeof(bits)));
  ASSERT_EQ(child.join(), 0);
  EXPECT_NE(bits[0], bits[1]) << "the fork child repeated its parent's draws";
  // Both sampled at all (a pattern of all ones or zeros would mean no sampling).
  for (const uint64_t b : bits) {
    EXPECT_NE(b, 0U);
    EXPECT_NE(b, ~uint64_t{0});
  }
}

// ---------------------------------------------------------------------------
// (c) Live changes through `ringtail sample`, for existing and new sites.

constexpr int kPhaseEvents = 1000;
bool log_phase_event(int phase, int i) { return RINGTAIL_INFO("phase.event", kv("phase", phase), kv("i", i)); }
bool log_late_event(int phase, int i) { return RINGTAIL_INFO("late.event", kv("phase", phase), kv("i", i)); }

TEST(Sampling, LiveChangesThroughTheTool) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  Options options = sampling_options("");
  options.service = "sampling-live-" + std::to_string(::getpid());
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link& link) {
    int32_t kept[5] = {};
    for (int i = 0; i < kPhaseEvents; ++i) kept[0] += log_phase_event(1, i);
    link.signal();
    if (!link.wait()) return 3;
    // The rules changed: the existing site, and one registered only now.
    for (int i = 0; i < kPhaseEvents; ++i) kept[1] += log_phase_event(2, i);
    for (int i = 0; i < kPhaseEvents; ++i) kept[2] += log_late_event(2, i);
    link.signal();
    if (!link.wait()) return 3;
    for (int i = 0; i < kPhaseEvents; ++i) kept[3] += log_phase_event(3, i);
    for (int i = 0; i < kPhaseEvents; ++i) kept[4] += log_late_event(3, i);
    link.send(kept, sizeof(kept));
    return 0;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  const std::string pid = std::to_string(child.pid());

  ASSERT_TRUE(child.wait_signal());
  ToolRun shown = run_ringtail({"sample", pid});
  EXPECT_EQ(shown.rc, 0) << shown.out;
  EXPECT_NE(shown.out.find("rules (none)"), std::string::npos) << shown.out;
  ToolRun set = run_ringtail({"sample", pid, "msg:phase.event=0, msg:late.event=0"});
  ASSERT_EQ(set.rc, 0) << set.out;
  EXPECT_NE(set.out.find("(none) -> \"msg:phase.event=0, msg:late.event=0\" (1 of 1 call sites sampled)"),
            std::string::npos)
      << set.out;
  ASSERT_TRUE(child.resume());

  ASSERT_TRUE(child.wait_signal());
  shown = run_ringtail({"sample", pid});
  EXPECT_EQ(shown.rc, 0) << shown.out;
  EXPECT_NE(shown.out.find("\"phase.event\"  keep 0"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("\"late.event\"  keep 0"), std::string::npos) << shown.out;
  const ToolRun ls = run_ringtail({"ls", "--json", "--pid", pid});
  EXPECT_NE(ls.out.find("\"sampled_out\":2000"), std::string::npos) << ls.out;
  // Cleared by service name this time.
  set = run_ringtail({"sample", options.service, "none"});
  ASSERT_EQ(set.rc, 0) << set.out;
  EXPECT_NE(set.out.find("-> (none) (0 of 2 call sites sampled)"), std::string::npos) << set.out;
  ASSERT_TRUE(child.resume());

  int32_t kept[5] = {};
  ASSERT_TRUE(child.receive(kept, sizeof(kept)));
  ASSERT_EQ(child.join(), 0);
  EXPECT_EQ(kept[0], kPhaseEvents);
  EXPECT_EQ(kept[1], 0);
  EXPECT_EQ(kept[2], 0);
  EXPECT_EQ(kept[3], kPhaseEvents);
  EXPECT_EQ(kept[4], kPhaseEvents);
  const std::vector<Line> lines = drain(child.pid());
  std::map<std::pair<std::string, int64_t>, int> per_phase;
  for (const Line& line : lines) ++per_phase[{line.message, line.get("phase")}];
  EXPECT_EQ((per_phase[{"phase.event", 1}]), kPhaseEvents);
  EXPECT_EQ((per_phase[{"phase.event", 2}]), 0);
  EXPECT_EQ((per_phase[{"late.event", 2}]), 0);
  EXPECT_EQ((per_phase[{"phase.event", 3}]), kPhaseEvents);
  EXPECT_EQ((per_phase[{"late.event", 3}]), kPhaseEvents);
}

TEST(Sampling, ToolRejectsBadRulesAndUnknownTargets) {
  ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
  ToolRun run = run_ringtail({"sample", "all", "debug=0.1,chatty=0.5"});
  EXPECT_EQ(run.rc, 2) << run.out;
  EXPECT_NE(run.out.find("sampling rule 2 \"chatty=0.5\""), std::string::npos) << run.out;
  run = run_ringtail({"sample", "no-such-service-" + std::to_string(::getpid())});
  EXPECT_EQ(run.rc, 1) << run.out;
}

// ---------------------------------------------------------------------------
// (d) RINGTAIL_SAMPLE from the environment: applied, or init fails naming the item.

TEST(Sampling, EnvironmentRulesApply) {
  ringtail::test::ForkedChild child = ringtail::test::ForkedChild::start([](ringtail::test::ChildChannel& ch) {
    ::setenv("RINGTAIL_SAMPLE", "msg:env.event=0", 1);
    const absl::Status status = ringtail::init();
    CHILD_EXPECT(ch, status.ok());
    int sampled_out = 0;
    for (int i = 0; i < 100; ++i) {
      sampled_out += RINGTAIL_TRY_LOG(Level::kInfo, "env.event", kv("i", i)) == ringtail::EmitResult::kSampledOut;
    }
    ch.value("sampled_out", sampled_out);
    ringtail::shutdown();
    return 0;
  });
  const ringtail::test::ChildOutcome outcome = child.finish();
  EXPECT_CHILD_OK(outcome);
  EXPECT_EQ(outcome.value_or("sampled_out"), "100");
}

TEST(Sampling, BadEnvironmentRulesFailInitNamingTheItem) {
  ringtail::test::ForkedChild child = ringtail::test::ForkedChild::start([](ringtail::test::ChildChannel& ch) {
    ::setenv("RINGTAIL_SAMPLE", "info=0.1, verbose=0.5", 1);
    const absl::Status status = ringtail::init();
    ch.value("code", static_cast<int>(status.code()));
    ch.value("error", std::string(status.message()));
    ch.value("segments", ringtail::test::segments_of(::getpid()).size());
    return 0;
  });
  const ringtail::test::ChildOutcome outcome = child.finish();
  EXPECT_CHILD_OK(outcome);
  EXPECT_EQ(outcome.value_or("code"), std::to_string(static_cast<int>(absl::StatusCode::kInvalidArgument)));
  const std::string error = outcome.value_or("error");
  EXPECT_NE(error.find("RINGTAIL_SAMPLE"), std::string::npos) << error;
  EXPECT_NE(error.find("sampling rule 2 \"verbose=0.5\""), std::string::npos) << error;
  EXPECT_EQ(outcome.value_or("segments"), "0") << "the failed init left its segment in /dev/shm";
}

}  // namespace
}  // namespace ringtail::reader
