// libFuzzer target: a --where expression and a line to hold it against.
// The input is "<expression>\n<JSON line>": parse_where() must answer every
// text with a clause or a one-line InvalidArgument, never crash or hang
// (RE2 keeps `~` patterns linear); an accepted clause is then evaluated, as
// `ringtail query` would, on the line if simdjson parses it as an object,
// through both may_match() (raw text, needles) and matches().
//
// Built and run by tests/fuzz/run_fuzzer.cmake (the fuzz.where ctest).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ringtail/reader/query/filter.hpp"
#include "ringtail/reader/query/parsed_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view expression = input.substr(0, newline);
  const std::string_view line = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  absl::StatusOr<ringtail::reader::WhereClause> clause = ringtail::reader::parse_where(expression);
  if (!clause.ok()) {
    if (clause.status().message().find('\n') != std::string_view::npos) __builtin_trap();  // one line
    return 0;
  }
  ringtail::reader::Filter filter;
  filter.add(*clause);
  (void)filter.may_match(line);
  static simdjson::dom::parser parser;
  const std::string padded(line);  // simdjson reads past the end: parse from a string
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) == simdjson::SUCCESS && doc.is_object()) (void)filter.matches(doc);
  return 0;
}
