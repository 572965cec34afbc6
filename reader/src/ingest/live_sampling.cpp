#include "ringtail/reader/ingest/live_sampling.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/shm/process_identity.hpp"
#include "ringtail/shm/sample_rules.hpp"

namespace ringtail::reader {
namespace {

// Sweeps until the table stops growing; a producer registering sites without
// end cannot hold the command forever.
constexpr int kMaxSweepRounds = 50;
constexpr std::chrono::milliseconds kSweepPause{10};

bool is_pid(std::string_view text) {
  return !text.empty() && text.size() <= 10 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Stores the keep word of every site of the table from index `from` on;
// returns how many of them sample (a word other than 0).
uint32_t apply_to_sites(const SegmentView& view, const CallSiteTable& table, uint32_t from,
                        const shm::SampleRules& rules) {
  uint32_t sampled = 0;
  for (uint32_t id = from; id < table.size(); ++id) {
    const CallSiteInfo* site = table.find(id);
    if (site == nullptr || !site->valid) continue;  // nothing to match a rule against; left as it is
    const uint32_t keep = shm::keep_for(rules, site->level, site->message, site->file, site->line);
    if (!view.store_sample_keep(id, keep).ok()) continue;  // the table holds only ids below capacity
    if (keep != 0) ++sampled;
  }
  return sampled;
}

}  // namespace

ProducerSelector ProducerSelector::parse(std::string_view text) {
  ProducerSelector selector;
  if (is_pid(text)) {
    selector.kind = Kind::kPid;
    selector.pid = static_cast<pid_t>(std::stoll(std::string(text)));
  } else if (text != "all") {
    selector.kind = Kind::kService;
    selector.service = std::string(text);
  }
  return selector;
}

absl::StatusOr<int> for_each_live_producer(
    const ProducerSelector& selector, SegmentView::Access access, const std::function<void(LiveProducer&)>& on_match,
    const std::function<void(const std::string& name, const absl::Status& error)>& on_error) {
  const bool by_pid = selector.kind == ProducerSelector::Kind::kPid;
  DiscoveryOptions options;
  if (by_pid) options.pids = {selector.pid};
  const Discovery discovery = discover_segments(options);
  if (!discovery.status.ok()) return discovery.status;
  int matched = 0;
  for (const DiscoveredSegment& found : discovery.segments) {
    if (!shm::process_alive(found.id)) continue;  // rules of a process that is gone change nothing
    absl::StatusOr<SegmentView> view = SegmentView::open(found.name, access);
    if (!view.ok()) {
      if (view.status().code() == absl::StatusCode::kNotFound) continue;     // gone since it was listed
      if (view.status().code() == absl::StatusCode::kUnavailable) continue;  // still initialising
      if (by_pid) on_error(found.name, view.status());
      continue;
    }
    if (selector.kind == ProducerSelector::Kind::kService && view->identity().service != selector.service) continue;
    ++matched;
    LiveProducer producer{found.name, found.id.pid, std::move(*view)};
    on_match(producer);
  }
  return matched;
}

absl::StatusOr<SamplingSweep> replace_sampling_rules(const SegmentView& view, std::string_view text) {
  const absl::StatusOr<shm::SampleRules> rules = shm::parse_sample_rules(text);
  if (!rules.ok()) return absl::InvalidArgumentError(rules.status().message());
  SamplingSweep sweep;
  sweep.rules_before = view.sample_rules_untrusted();
  // The text first: sites registered from now on read it.
  if (absl::Status s = view.store_sample_rules(text); !s.ok()) return s;
  CallSiteTable table(view);
  // Then every registered site, and again for any registered meanwhile
  // (which may have read the old text) until the table stops growing.
  for (int round = 0; round < kMaxSweepRounds; ++round) {
    if (absl::Status s = table.refresh(); !s.ok()) sweep.table_errors.push_back(std::move(s));
    if (round > 0 && table.size() == sweep.sites) break;
    sweep.sampled += apply_to_sites(view, table, sweep.sites, *rules);
    sweep.sites = table.size();
    std::this_thread::sleep_for(kSweepPause);
  }
  sweep.rules_after = view.sample_rules_untrusted();
  return sweep;
}

SamplingReport sampling_report(const SegmentView& view) {
  SamplingReport report;
  report.rules = view.sample_rules_untrusted();
  CallSiteTable table(view);
  report.table_error = table.refresh();
  report.registered = table.size();
  for (uint32_t id = 0; id < table.size(); ++id) {
    const uint32_t keep = view.sample_keep_untrusted(id).value_or(0);
    if (keep == 0) continue;
    SampledSite sampled;
    sampled.id = id;
    sampled.keep = keep;
    if (const CallSiteInfo* site = table.find(id); site != nullptr && site->valid) {
      sampled.valid = true;
      sampled.level = site->level;
      sampled.file = site->file;
      sampled.line = site->line;
      sampled.message = site->message;
    }
    report.sampled.push_back(std::move(sampled));
  }
  return report;
}

}  // namespace ringtail::reader
