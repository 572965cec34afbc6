// The producer's side of sampling rules (RINGTAIL_SAMPLE): putting them in
// the segment at init and turning them into each new call site's
// sample_keep word. Not API. (The per-event decision, sample_keep_event(),
// is declared with the other hot-path entry points in
// ringtail/detail/producer_state.hpp.)
//
// The rules live in the segment header as text (a seqlock, see
// shm/sample_rules.hpp), so that a reader can replace them live: the
// producer reads that text, not Options::sample, whenever it registers a
// site, and a reader changing the rules rewrites the sample_keep words of
// the sites already registered. The text is untrusted (a reader wrote it):
// one the producer cannot read or parse counts as no rules, never an error.
//
// Threading: cold paths only, called with the runtime lock held (init,
// register_site).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "producer_segment.hpp"
#include "ringtail/shm/layout.hpp"

namespace ringtail::detail {

// Checks `rules` (Options::sample): InvalidArgumentError naming the bad item
// when they do not parse, or are longer than the header holds. init() calls
// it before it creates anything.
absl::Status check_sample_rules(const std::string& rules);
// Writes the rules text of a new segment before it is published (so no
// reader ever sees it without them): `rules`, checked already, or for a fork
// child (`parent` not null) the parent's live rules.
void write_sample_rules(shm::SegmentHeader& header, const std::string& rules,
                        const shm::SegmentHeader* parent) noexcept;

// The sample_keep word of a call site being registered, from the header's
// live rules text; 0 (keep all) when there are none, or when the text
// cannot be read or parsed. Call before the entry is published.
uint32_t sample_keep_for_new_site(const shm::SegmentHeader& header, shm::Level level, std::string_view message,
                                  std::string_view file, uint32_t line) noexcept;

// Copies a parent's rules text into a fork child's new segment (whose
// call-site table, and so its sample_keep words, was copied from the
// parent's), so the child's new sites follow the same live rules.
void inherit_sample_rules(shm::SegmentHeader& child, const shm::SegmentHeader& parent) noexcept;

}  // namespace ringtail::detail
