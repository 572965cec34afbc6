// Live sampling: reading and replacing running producers' sampling rules
// (RINGTAIL_SAMPLE, shm/sample_rules.hpp; docs/FORMAT.md, "Sampling"), what
// `ringtail sample` does.
//
// The rules live in two places of a segment: the header's rules text (a
// seqlock), which the producer applies to each call site it registers from
// then on, and each registered site's CallSiteEntry::sample_keep word, which
// the producer reads on every event of the site. replace_sampling_rules()
// writes the text first, then recomputes the word of every site in the table
// from the site's level, message, file and line. A site registered exactly
// while the words are rewritten may still have read the old text: the table
// is therefore swept again (10 ms apart, at most 50 rounds) until it stops
// growing.
//
// for_each_live_producer() finds the segments a target names ("all", a pid,
// or a service name) whose producers still run: the rules of a process that
// is gone change nothing.
//
// Threading: plain functions; the producer runs concurrently, and every word
// read from its segment is untrusted.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::reader {

// Which live producers a sampling command addresses.
struct ProducerSelector {
  enum class Kind { kAll, kPid, kService };
  Kind kind = Kind::kAll;
  pid_t pid = 0;        // kPid
  std::string service;  // kService

  // "all"; a pid (1 to 10 decimal digits); anything else is a service name.
  static ProducerSelector parse(std::string_view text);
};

// A live producer's segment, opened for a sampling command.
struct LiveProducer {
  std::string name;  // "ringtail.<pid>.<start_ticks>"
  pid_t pid = 0;
  SegmentView view;
};

// Calls on_match for every segment of a live producer that `selector` names,
// opened with `access`, in discovery order. Segments that vanished or are
// still initialising are passed over. A segment that cannot be opened
// otherwise goes to on_error (its name and the open error) when the selector
// names a pid, since that producer's own segment should open; with "all" or
// a service, segments of other users' processes are not ours to judge and
// are passed over. Returns how many matched, or the error of listing
// /dev/shm.
absl::StatusOr<int> for_each_live_producer(
    const ProducerSelector& selector, SegmentView::Access access, const std::function<void(LiveProducer&)>& on_match,
    const std::function<void(const std::string& name, const absl::Status& error)>& on_error);

// What replace_sampling_rules() did to one segment.
struct SamplingSweep {
  absl::StatusOr<std::string> rules_before;  // the rules text as read before (untrusted)
  absl::StatusOr<std::string> rules_after;   // and after the sweep
  uint32_t sites = 0;                        // call sites swept: the table's size once it stopped growing
  uint32_t sampled = 0;                      // of them, those given a keep word other than 0
  // Call-site table errors met while sweeping (the sweep went on with the
  // entries it could read), in order.
  std::vector<absl::Status> table_errors;
};

// Replaces the rules text of a writable `view` with `text` (the syntax of
// RINGTAIL_SAMPLE; "" clears) and applies it to every registered call site.
// InvalidArgument when `text` does not parse (nothing is changed); the error
// of storing the text (read-only view, text too long) otherwise.
absl::StatusOr<SamplingSweep> replace_sampling_rules(const SegmentView& view, std::string_view text);

// A call site whose keep word samples (is not 0).
struct SampledSite {
  uint32_t id = 0;
  uint32_t keep = 0;   // the keep word (shm::keep_fraction gives the fraction kept)
  bool valid = false;  // the table entry validated; the fields below only then
  shm::Level level = shm::Level::kOff;
  std::string file;
  uint32_t line = 0;
  std::string message;
};

// A segment's sampling as it stands.
struct SamplingReport {
  absl::StatusOr<std::string> rules;  // the rules text (untrusted)
  std::vector<SampledSite> sampled;   // by id
  uint32_t registered = 0;            // call sites in the table
  absl::Status table_error;           // of refreshing the table; the entries read are reported
};

SamplingReport sampling_report(const SegmentView& view);

}  // namespace ringtail::reader
