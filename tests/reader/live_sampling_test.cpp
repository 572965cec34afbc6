// reader/ingest/live_sampling.hpp against a real, running producer: finding
// it by pid and by service, replacing its rules (text and every site's keep
// word), and reporting which sites sample.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "producer_child.hpp"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/live_sampling.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/ringtail.hpp"
#include "ringtail/shm/sample_rules.hpp"

namespace ringtail::reader {
namespace {

using ringtail::test::ProducerChild;
using Kind = ProducerSelector::Kind;

TEST(ProducerSelector, AllAPidOrAService) {
  EXPECT_EQ(ProducerSelector::parse("all").kind, Kind::kAll);
  const ProducerSelector pid = ProducerSelector::parse("4242");
  EXPECT_EQ(pid.kind, Kind::kPid);
  EXPECT_EQ(pid.pid, 4242);
  const ProducerSelector service = ProducerSelector::parse("checkout");
  EXPECT_EQ(service.kind, Kind::kService);
  EXPECT_EQ(service.service, "checkout");
  EXPECT_EQ(ProducerSelector::parse("12345678901").kind, Kind::kService) << "11 digits are no pid";
  EXPECT_EQ(ProducerSelector::parse("42a").kind, Kind::kService);
  EXPECT_EQ(ProducerSelector::parse("ALL").kind, Kind::kService) << "only \"all\" means all";
}

// A running producer with three call sites (info, warn, error), held until resume().
class LiveSamplingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = "rt-live-sampling-" + std::to_string(::getpid());
    Options options = ringtail::test::small_producer_options(service_);
    child_.emplace(ProducerChild::start(options, [](ProducerChild::Link& link) {
      RINGTAIL_INFO("site.info");
      RINGTAIL_WARN("site.warn");
      RINGTAIL_ERROR("site.error");
      link.signal();
      link.wait();
      return 0;
    }));
    ASSERT_TRUE(child_->ok()) << child_->error();
    ASSERT_TRUE(child_->wait_signal());
  }
  void TearDown() override {
    if (child_.has_value() && child_->ok()) {
      child_->resume();
      EXPECT_EQ(child_->join(), 0);
    }
  }

  SegmentView open(SegmentView::Access access) {
    absl::StatusOr<SegmentView> view = SegmentView::open(child_->segment_name(), access);
    EXPECT_TRUE(view.ok()) << view.status();
    return std::move(*view);
  }
  // The site id of a message, from the segment's table.
  static uint32_t site_of(const SegmentView& view, const std::string& message) {
    CallSiteTable table(view);
    EXPECT_TRUE(table.refresh().ok());
    for (uint32_t id = 0; id < table.size(); ++id) {
      if (table.find(id)->valid && table.find(id)->message == message) return id;
    }
    ADD_FAILURE() << "no site " << message;
    return 0;
  }
  // The segments for_each_live_producer() hands on for `selector`.
  std::vector<std::string> matched(const ProducerSelector& selector, std::vector<absl::Status>* errors = nullptr) {
    std::vector<std::string> names;
    const absl::StatusOr<int> count = for_each_live_producer(
        selector, SegmentView::Access::kReadOnly,
        [&](LiveProducer& p) {
          EXPECT_EQ(p.view.name(), p.name);
          EXPECT_EQ(p.pid, child_->pid());
          names.push_back(p.name);
        },
        [&](const std::string&, const absl::Status& error) {
          if (errors != nullptr) errors->push_back(error);
        });
    EXPECT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(count.value_or(-1), static_cast<int>(names.size()));
    return names;
  }

  std::string service_;
  std::optional<ProducerChild> child_;
};

TEST_F(LiveSamplingTest, FindsTheProducerByPidAndByService) {
  const std::vector<std::string> mine = {child_->segment_name()};
  EXPECT_EQ(matched(ProducerSelector::parse(std::to_string(child_->pid()))), mine);
  EXPECT_EQ(matched(ProducerSelector::parse(service_)), mine);
  EXPECT_TRUE(matched(ProducerSelector::parse(service_ + "-other")).empty());
  std::vector<std::string> all;
  EXPECT_TRUE(for_each_live_producer(
                  ProducerSelector::parse("all"), SegmentView::Access::kReadOnly,
                  [&](LiveProducer& p) { all.push_back(p.name); }, [](const std::string&, const absl::Status&) {})
                  .ok());
  EXPECT_NE(std::find(all.begin(), all.end(), child_->segment_name()), all.end());
}

TEST_F(LiveSamplingTest, AGoneProducerIsNotMatched) {
  child_->resume();
  ASSERT_EQ(child_->join(), 0);
  EXPECT_TRUE(matched(ProducerSelector::parse(service_)).empty());
  EXPECT_TRUE(matched(ProducerSelector::parse(std::to_string(child_->pid()))).empty());
  child_.reset();
}

TEST_F(LiveSamplingTest, ReplacingTheRulesSetsEverySitesKeepWord) {
  const SegmentView view = open(SegmentView::Access::kReadWrite);
  const std::string rules = "info=0.5,msg:site.warn=0.25";
  absl::StatusOr<SamplingSweep> sweep = replace_sampling_rules(view, rules);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(sweep->rules_before.value_or("?"), "");
  EXPECT_EQ(sweep->rules_after.value_or("?"), rules);
  EXPECT_EQ(sweep->sites, 3u);
  EXPECT_EQ(sweep->sampled, 2u);
  EXPECT_TRUE(sweep->table_errors.empty());
  EXPECT_EQ(view.sample_keep_untrusted(site_of(view, "site.info")).value_or(0), shm::keep_word(0.5));
  EXPECT_EQ(view.sample_keep_untrusted(site_of(view, "site.warn")).value_or(0), shm::keep_word(0.25));
  EXPECT_EQ(view.sample_keep_untrusted(site_of(view, "site.error")).value_or(1), 0u);

  const SamplingReport report = sampling_report(open(SegmentView::Access::kReadOnly));
  EXPECT_EQ(report.rules.value_or("?"), rules);
  EXPECT_TRUE(report.table_error.ok()) << report.table_error;
  EXPECT_EQ(report.registered, 3u);
  ASSERT_EQ(report.sampled.size(), 2u);
  for (const SampledSite& site : report.sampled) {
    EXPECT_TRUE(site.valid);
    EXPECT_GT(site.line, 0u);
    EXPECT_NE(site.file.find("live_sampling_test.cpp"), std::string::npos) << site.file;
    if (site.message == "site.info") {
      EXPECT_EQ(site.level, shm::Level::kInfo);
      EXPECT_EQ(site.keep, shm::keep_word(0.5));
    } else {
      EXPECT_EQ(site.message, "site.warn");
      EXPECT_EQ(site.level, shm::Level::kWarn);
      EXPECT_EQ(site.keep, shm::keep_word(0.25));
    }
  }
  EXPECT_LT(report.sampled[0].id, report.sampled[1].id);

  // Clearing the rules clears every word.
  sweep = replace_sampling_rules(view, "");
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  EXPECT_EQ(sweep->rules_before.value_or("?"), rules);
  EXPECT_EQ(sweep->sampled, 0u);
  const SamplingReport cleared = sampling_report(view);
  EXPECT_EQ(cleared.rules.value_or("?"), "");
  EXPECT_TRUE(cleared.sampled.empty());
  EXPECT_EQ(cleared.registered, 3u);
}

TEST_F(LiveSamplingTest, BadRulesOrAReadOnlyViewChangeNothing) {
  const SegmentView writable = open(SegmentView::Access::kReadWrite);
  ASSERT_TRUE(replace_sampling_rules(writable, "warn=0.5").ok());
  EXPECT_EQ(replace_sampling_rules(writable, "loud=0.5").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(replace_sampling_rules(writable, "info=2").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(replace_sampling_rules(open(SegmentView::Access::kReadOnly), "info=0.5").status().code(),
            absl::StatusCode::kFailedPrecondition);
  const SamplingReport report = sampling_report(writable);
  EXPECT_EQ(report.rules.value_or("?"), "warn=0.5");
  ASSERT_EQ(report.sampled.size(), 1u);
  EXPECT_EQ(report.sampled[0].message, "site.warn");
}

}  // namespace
}  // namespace ringtail::reader
