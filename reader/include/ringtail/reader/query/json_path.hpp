// How a command names a value in a line: the one rule that --where keys,
// `stats --by` / `--duration-field` / `--most-common` and `cost --by` share.
//
// A key names the top-level key of that exact name. When the line has no
// such key and the key contains '.', it is a path into nested objects, split
// at every '.': error.type is {"error":{"type":…}}. A path with an empty
// segment (a..b, .a, a.) names only the top-level key of that exact name:
// the empty key is never reached through a path. (--where refuses such a
// bare key outright, as a probable typo; see filter.hpp.)
//
// Threading: pure functions.
#pragma once

#include <simdjson.h>

#include <string_view>

namespace ringtail::reader {

// Whether `key` is a usable path: it contains '.' and no segment is empty.
bool is_json_path(std::string_view key);

// The value `key` names in `line` (see the file comment) into *value; false
// when it names nothing (a missing key, a segment that is not an object, a
// line that is not an object).
bool lookup(simdjson::dom::element line, std::string_view key, simdjson::dom::element* value);

// The value under `path` (a usable path, or one key) inside `at`, segment by
// segment, into *value; false when a segment is missing or a step is not an
// object. lookup() walks a line's paths with it.
bool walk_path(simdjson::dom::element at, std::string_view path, simdjson::dom::element* value);

}  // namespace ringtail::reader
