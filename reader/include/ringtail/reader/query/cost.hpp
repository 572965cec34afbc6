// The cost report (`ringtail report --cost`): total cost, tokens, requests
// and average cost per request, per group of --by keys, over the lines a
// query keeps that carry a numeric "cost_usd".
//
// Money is summed without floating-point drift: each cost_usd is read from
// the number's text in the line (as written, e.g. 0.015394999999999999) into
// a decimal fixed-point value with 18 fractional digits in 128-bit integers
// (digits past the 18th are rounded half to even: under 5e-19 per line), and
// summed exactly; it is rounded only when printed (to the cent for people,
// in full in --json). "tokens" is summed the same way; a line without it
// counts "input_tokens" + "output_tokens" (agent::llm_call's).
//
// Threading: one thread per CostAccumulator.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simdjson.h"

namespace ringtail::reader {

// A decimal with 18 fractional digits: units of 1e-18.
class Decimal {
 public:
  static constexpr int kScale = 18;
  Decimal() = default;
  // A JSON number's text; nullopt if it is not one or does not fit.
  static std::optional<Decimal> parse(std::string_view text);
  Decimal& operator+=(const Decimal& other) {
    units_ += other.units_;
    return *this;
  }
  bool operator==(const Decimal&) const = default;
  // Rounded half away from zero to `digits` fractional digits (0..18), e.g.
  // "10.50"; with thousands separators when `grouped`.
  std::string to_string(int digits, bool grouped = false) const;
  // All 18 digits, trailing zeros (and a bare point) removed: "10.5", "3".
  std::string exact() const;
  // This divided by n, rounded half away from zero to 1e-18.
  Decimal divided_by(uint64_t n) const;
  __int128 units() const { return units_; }

 private:
  __int128 units_ = 0;
};

// Dollars as people read them: cents, thousands grouped ("$1,234.50");
// amounts under ten cents that are not whole cents get four decimals
// ("$0.0066"), so that an average of fractions of a cent does not read $0.01.
std::string dollars_text(const Decimal& amount);

// The amounts of one line, read from the numbers' text: cost_usd, and the
// tokens ("tokens", else input_tokens + output_tokens). nullopt where the line
// has no such number (or it does not fit a Decimal).
struct LineAmounts {
  std::optional<Decimal> cost;
  std::optional<Decimal> tokens;
};
class LineAmountReader {
 public:
  // `raw` is one line's JSON text.
  LineAmounts read(std::string_view raw);

 private:
  simdjson::ondemand::parser parser_;
};

struct CostGroup {
  std::vector<std::string> key;  // compact JSON text per --by key
  uint64_t requests = 0;         // lines with a numeric cost_usd
  Decimal cost;
  Decimal tokens;
  Decimal average_cost() const { return requests == 0 ? Decimal() : cost.divided_by(requests); }
};

struct CostReport {
  CostGroup total;
  std::vector<CostGroup> groups;  // by cost, largest first
  uint64_t unreadable = 0;        // cost_usd present but not a number that fits
};

class CostAccumulator {
 public:
  explicit CostAccumulator(std::vector<std::string> by);
  // `raw` is the line's text (the numbers are read from it), `line` its parse.
  void add(std::string_view raw, simdjson::dom::element line);
  CostReport finish() const;

 private:
  std::vector<std::string> by_;
  std::map<std::vector<std::string>, CostGroup> groups_;
  CostGroup total_;
  uint64_t unreadable_ = 0;
  LineAmountReader amounts_;
};

}  // namespace ringtail::reader
