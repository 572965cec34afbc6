// Sampling rules (RINGTAIL_SAMPLE): parsing, matching, and the rules text in
// the segment header.
//
// Shared by the producer (which applies the rules to each call site it
// registers) and the reader (`ringtail sample`, which shows and replaces them
// live), so both read the same text the same way. Pure functions: no state,
// nothing here allocates in shared memory or trusts it.
//
// The text is a comma-separated list of `selector=rate` items:
//   trace|debug|info|warn|error|critical (any case)   every site of that level
//   msg:<message>                                     sites whose message is exactly <message>
//   site:<file>:<line>                                the site at <line> of a file whose path
//                                                     ends in <file> on a '/' boundary
// rate is a plain decimal in [0, 1] ("0", "0.25", "1", ".5"): the fraction of
// the site's events kept. Whitespace around an item, its selector and its
// rate is ignored; the message of a msg: selector is every byte after
// "msg:" up to the '=' that starts the rate (the last '=' of the item), so it
// may hold '=' or ':' but not ','. An empty text (or only whitespace) is no
// rules.
//
// Precedence for one site: a site: rule beats a msg: rule, which beats a
// level rule; among matching rules of the same kind the last one wins. A
// site no rule matches keeps everything.
//
// A rate becomes the site's CallSiteEntry::sample_keep word (keep_word): the
// hot path keeps an event when its 32-bit draw is below sample_keep - 1.
//
// Threading: parsing and matching are pure; the header text is a seqlock
// (see SegmentHeader::sample_rules_version): any number of readers, one
// writer at a time (store_sample_rules_text serialises well-behaved writers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/shm/layout.hpp"

namespace ringtail::shm {

// One parsed item of the text.
struct SampleRule {
  enum class Kind : uint8_t { kLevel = 0, kMessage = 1, kSite = 2 };  // in increasing precedence
  Kind kind = Kind::kLevel;
  Level level = Level::kTrace;  // kLevel
  std::string message;          // kMessage: the exact message
  std::string file;             // kSite: a path suffix
  uint32_t line = 0;            // kSite
  double rate = 1.0;            // in [0, 1]
  uint32_t keep = 0;            // keep_word(rate)
};

// The rules of one text, in the order they were written.
struct SampleRules {
  std::vector<SampleRule> rules;
  bool empty() const { return rules.empty(); }
};

// keep_word
// The sample_keep word for `rate`, the fraction of events to keep:
//   rate >= 1        -> 0: keep every event (no sampling);
//   rate <= 0, NaN   -> 1: keep none;
//   otherwise        -> 1 + floor(rate * (2^32 - 1)), at most 2^32 - 1.
// An event is kept when its uniform 32-bit draw d satisfies d < word - 1, so
// a word w keeps (w - 1) / 2^32 of the events: rate within 2^-31, never more
// than rate. Because the comparison is a threshold on one draw, a site with a
// lower rate keeps a subset of what a higher rate keeps for the same draw
// (which is what makes per-trace sampling consistent across sites).
uint32_t keep_word(double rate);

// The fraction of events a sample_keep word keeps: 1 for 0, else (word - 1) / 2^32.
double keep_fraction(uint32_t keep);

// Parses a rules text (see the file comment). At most kSampleRulesBytes
// bytes, the most the segment header holds. InvalidArgumentError naming the
// first bad item (quoted, and its position in the list) and what is wrong.
absl::StatusOr<SampleRules> parse_sample_rules(std::string_view text);

// The sample_keep word of a call site under `rules`: the most specific
// matching rule's keep_word (site > msg > level, the last among equals), or
// 0 (keep all) when none matches.
uint32_t keep_for(const SampleRules& rules, Level level, std::string_view message, std::string_view file,
                  uint32_t line);

// Whether `file` ends with the path suffix `suffix` on a '/' boundary:
// "agent.cpp" and "src/agent.cpp" match "/w/src/agent.cpp", "gent.cpp" does
// not. An empty suffix matches nothing.
bool path_suffix_matches(std::string_view file, std::string_view suffix);

// ---------------------------------------------------------------------------
// The header's rules text (SegmentHeader::sample_rules), a seqlock.

// store_sample_rules_text
// Writes `text` as the header's rules text: the version is made odd, the
// bytes (NUL-padded to kSampleRulesBytes) and the length stored, then the
// version made even again with a release store. Concurrent writers are
// serialised by a compare-and-swap on the version; a version left odd by a
// writer that died mid-write is taken over after a short wait. The text is
// not parsed here (callers validate it first). InvalidArgumentError if it is
// longer than kSampleRulesBytes (nothing is written).
absl::Status store_sample_rules_text(SegmentHeader& header, std::string_view text);

// load_sample_rules_text
// Copies the header's rules text out, retrying while a writer is at work
// (the version odd, or changed during the copy), up to `max_attempts` times
// (yielding the CPU between later ones). UnavailableError if no stable copy
// was had; DataLossError if a stable copy claims more than
// kSampleRulesBytes bytes (a corrupt or hostile header). The text itself is
// still untrusted: parse it before use. Works on a read-only mapping.
absl::StatusOr<std::string> load_sample_rules_text(const SegmentHeader& header, int max_attempts = 100);

}  // namespace ringtail::shm
