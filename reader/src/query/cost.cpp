#include "ringtail/reader/query/cost.hpp"

#include <algorithm>

#include "ringtail/reader/query/json_path.hpp"
#include "ringtail/reader/query/json_value.hpp"
#include "ringtail/reader/query/stats.hpp"

namespace ringtail::reader {
namespace {

// 10^n for n in [0, 38].
__int128 power_of_ten(int n) {
  __int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

// Rounds value / divisor half away from zero (divisor > 0).
__int128 divide_rounded(__int128 value, __int128 divisor) {
  const bool negative = value < 0;
  const __int128 magnitude = negative ? -value : value;
  __int128 q = magnitude / divisor;
  if ((magnitude % divisor) * 2 >= divisor) ++q;
  return negative ? -q : q;
}

std::string digits_of(__int128 magnitude) {
  if (magnitude == 0) return "0";
  std::string out;
  while (magnitude > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string with_separators(const std::string& digits) {
  std::string out;
  const size_t lead = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i - lead) % 3 == 0 && i >= lead) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view text) {
  // JSON: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
  size_t i = 0;
  const bool negative = i < text.size() && text[i] == '-';
  if (negative) ++i;
  std::string digits;
  int fraction_digits = 0;
  const size_t int_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') digits.push_back(text[i++]);
  if (i == int_start || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') digits.push_back(text[i++]);
    if (i == start) return std::nullopt;
    fraction_digits = static_cast<int>(i - start);
  }
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exponent_negative = text[i++] == '-';
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      exponent = exponent * 10 + (text[i++] - '0');
      if (exponent > 1000) return std::nullopt;
    }
    if (i == start) return std::nullopt;
    if (exponent_negative) exponent = -exponent;
  }
  if (i != text.size()) return std::nullopt;
  // value = digits * 10^(exponent - fraction_digits); in units of 1e-18:
  // digits * 10^shift.
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
  const int64_t shift = exponent - fraction_digits + kScale;
  Decimal result;
  if (digits == "0") return result;
  if (shift >= 0) {
    // At most 37 digits of units: below 2^127 with room for sums.
    if (static_cast<int64_t>(digits.size()) + shift > 37) return std::nullopt;
    __int128 units = 0;
    for (const char c : digits) units = units * 10 + (c - '0');
    result.units_ = units * power_of_ten(static_cast<int>(shift));
  } else {
    // Drop -shift digits, rounding half to even.
    const size_t drop = static_cast<size_t>(-shift);
    if (drop >= digits.size() + 1) return result;  // below half a unit: 0
    const std::string kept = drop >= digits.size() ? "0" : digits.substr(0, digits.size() - drop);
    const std::string rest =
        drop >= digits.size() ? std::string(drop - digits.size(), '0') + digits : digits.substr(digits.size() - drop);
    if (kept.size() > 37) return std::nullopt;
    __int128 units = 0;
    for (const char c : kept) units = units * 10 + (c - '0');
    const bool above_half = rest[0] > '5' || (rest[0] == '5' && rest.find_first_not_of('0', 1) != std::string::npos);
    const bool exactly_half = rest[0] == '5' && rest.find_first_not_of('0', 1) == std::string::npos;
    if (above_half || (exactly_half && units % 2 == 1)) ++units;
    result.units_ = units;
  }
  if (negative) result.units_ = -result.units_;
  return result;
}

std::string Decimal::to_string(int digits, bool grouped) const {
  digits = std::clamp(digits, 0, kScale);
  const __int128 rounded = divide_rounded(units_, power_of_ten(kScale - digits));
  const bool negative = rounded < 0;
  const __int128 magnitude = negative ? -rounded : rounded;
  const __int128 unit = power_of_ten(digits);
  std::string whole = digits_of(magnitude / unit);
  if (grouped) whole = with_separators(whole);
  std::string out;
  if (negative) out.push_back('-');
  out += whole;
  if (digits > 0) {
    const std::string fraction = digits_of(magnitude % unit);
    out.push_back('.');
    out.append(static_cast<size_t>(digits) - fraction.size(), '0');
    out += fraction;
  }
  return out;
}

std::string Decimal::exact() const {
  std::string out = to_string(kScale);
  out.erase(out.find_last_not_of('0') + 1);
  if (out.back() == '.') out.pop_back();
  return out;
}

Decimal Decimal::divided_by(uint64_t n) const {
  Decimal result;
  result.units_ = n == 0 ? 0 : divide_rounded(units_, static_cast<__int128>(n));
  return result;
}

CostAccumulator::CostAccumulator(std::vector<std::string> by) : by_(std::move(by)) {}

std::string dollars_text(const Decimal& amount) {
  static const __int128 kTenCents = Decimal::parse("0.1")->units();
  const Decimal cents = *Decimal::parse(amount.to_string(2));
  const bool small = amount.units() != 0 && amount.units() < kTenCents && amount.units() > -kTenCents;
  std::string text = amount.to_string(small && !(cents == amount) ? 4 : 2, true);
  if (!text.empty() && text[0] == '-') return "-$" + text.substr(1);
  return "$" + text;
}

LineAmounts LineAmountReader::read(std::string_view raw) {
  // The numbers' text, from the line itself (a DOM holds only doubles).
  simdjson::padded_string padded(raw);
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  LineAmounts amounts;
  std::optional<Decimal> input_tokens;  // llm.call: tokens are input + output
  std::optional<Decimal> output_tokens;
  if (parser_.iterate(padded).get(document) == simdjson::SUCCESS &&
      document.get_object().get(object) == simdjson::SUCCESS) {
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
      std::optional<Decimal>* slot = key == "cost_usd"        ? &amounts.cost
                                     : key == "tokens"        ? &amounts.tokens
                                     : key == "input_tokens"  ? &input_tokens
                                     : key == "output_tokens" ? &output_tokens
                                                              : nullptr;
      if (slot == nullptr) continue;
      simdjson::ondemand::value value;
      if (field.value().get(value) != simdjson::SUCCESS) break;
      simdjson::ondemand::json_type type{};
      if (value.type().get(type) != simdjson::SUCCESS || type != simdjson::ondemand::json_type::number) continue;
      std::string_view token = value.raw_json_token();
      while (!token.empty() &&
             (token.back() == ' ' || token.back() == '\t' || token.back() == '\r' || token.back() == '\n')) {
        token.remove_suffix(1);
      }
      *slot = Decimal::parse(token);
    }
  }
  if (!amounts.tokens && (input_tokens || output_tokens)) {
    amounts.tokens = input_tokens.value_or(Decimal());
    *amounts.tokens += output_tokens.value_or(Decimal());
  }
  return amounts;
}

void CostAccumulator::add(std::string_view raw, simdjson::dom::element line) {
  simdjson::dom::element cost_value;
  if (line["cost_usd"].get(cost_value) != simdjson::SUCCESS) return;
  const LineAmounts amounts = amounts_.read(raw);
  const std::optional<Decimal>& cost = amounts.cost;
  const std::optional<Decimal>& tokens = amounts.tokens;
  if (!cost) {
    ++unreadable_;
    return;
  }
  std::vector<std::string> group_key;
  for (const std::string& by : by_) {
    simdjson::dom::element value;
    group_key.push_back(lookup(line, by, &value) ? json_value_text(value) : "null");
  }
  for (CostGroup* group : {&groups_[group_key], &total_}) {
    ++group->requests;
    group->cost += *cost;
    if (tokens) group->tokens += *tokens;
  }
  groups_[group_key].key = group_key;
}

CostReport CostAccumulator::finish() const {
  CostReport report;
  report.total = total_;
  report.unreadable = unreadable_;
  for (const auto& [key, group] : groups_) report.groups.push_back(group);
  std::stable_sort(report.groups.begin(), report.groups.end(),
                   [](const CostGroup& a, const CostGroup& b) { return a.cost.units() > b.cost.units(); });
  return report;
}

}  // namespace ringtail::reader
