// ShapedFilter: a Filter (filter.hpp) applied to the lines the drain hands
// its sinks (EventBatch, sinks/event_batch.hpp) through their shapes, without
// parsing them: what `tail --where` uses, and what a sink that filters or
// alerts on a live stream should use.
//
// matches() answers as Filter::matches() answers for the parsed line. The
// head's values come from the line's head and shape (timestamp, level,
// message, tid, seq) and from the batch's segment (service, pid); every other
// key from its field span, found by its escaped text (the reader escapes
// canonically, so equal texts are equal keys). Only what must be typed is
// parsed, alone and by the same parser as the lines: a number being compared,
// and the object under the first segment of a dotted path. A batch without a
// segment (hand-built) has its lines parsed whole.
//
// Threading: one object per thread (it owns a parser and scratch space).
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"

namespace ringtail::reader {

class ShapedFilter {
 public:
  explicit ShapedFilter(Filter filter);

  const Filter& filter() const { return filter_; }

  // Whether line `shape` of `batch` passes every condition of the filter.
  bool matches(const EventBatch& batch, const LineShape& shape);

 private:
  class Value;  // a value of a shaped line (shaped_filter.cpp)

  // A clause's key as lines write it (escaped, without quotes); for a path,
  // also its first segment, and that escaped.
  struct ClauseKey {
    std::string escaped;
    std::string first;
    std::string escaped_first;
  };

  // The JSON text of top-level key `key` (escaped as `escaped_key`) of the
  // line, or nullopt when the line has no such key.
  std::optional<std::string_view> top_level(const EventBatch& batch, const LineShape& shape, std::string_view key,
                                            std::string_view escaped_key);
  bool clause_matches(const WhereClause& clause, const ClauseKey& key, const EventBatch& batch, const LineShape& shape);

  Filter filter_;
  std::vector<ClauseKey> keys_;  // per clause
  simdjson::dom::parser parser_;
  std::string scratch_;  // unescaped strings
  std::string number_;   // pid, tid or seq as text
  const SegmentIdentity* service_of_ = nullptr;
  std::string service_json_;  // the service of service_of_ as its lines write it
};

}  // namespace ringtail::reader
