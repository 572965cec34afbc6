#include "ringtail/reader/live/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include "ringtail/reader/output/json_text.hpp"

namespace ringtail::reader {

std::string utf8_label_value(std::string_view bytes) {
  // The JSON writer's replacement of bad sequences, then its escapes undone.
  std::string quoted;
  append_json_string(quoted, bytes);
  std::string scratch;
  return std::string(json_string_text(quoted, scratch));
}

std::string_view cut_label_value(std::string_view value, size_t max_bytes) {
  if (value.size() <= max_bytes) return value;
  size_t end = max_bytes;
  // Back off continuation bytes (10xxxxxx) to the start of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
  return value.substr(0, end);
}

void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (byte < 0x20 || byte == 0x7F) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else {
      out.push_back(c);
    }
  }
}

void append_sample_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[32];
  std::to_chars_result result{};
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {  // 2^53: exact as an integer
    result = std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(value));
  } else {
    result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  }
  out.append(buffer, result.ptr);
}

void PrometheusWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_.push_back(' ');
  for (const char c : help) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_.push_back(c);
    }
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_.push_back(' ');
  out_ += type;
  out_.push_back('\n');
}

void PrometheusWriter::sample(std::string_view name, const std::vector<std::string_view>& names,
                              const std::vector<std::string_view>& values, double value) {
  out_ += name;
  if (!names.empty()) {
    out_.push_back('{');
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out_.push_back(',');
      out_ += names[i];
      out_ += "=\"";
      append_label_value(out_, i < values.size() ? values[i] : std::string_view());
      out_.push_back('"');
    }
    out_.push_back('}');
  }
  out_.push_back(' ');
  append_sample_value(out_, value);
  out_.push_back('\n');
}

LabelTable::LabelTable(size_t label_count, size_t max_sets, size_t max_value_bytes)
    : label_count_(label_count == 0 ? 1 : label_count), max_sets_(max_sets), max_value_bytes_(max_value_bytes) {}

uint32_t LabelTable::find_or_add(std::initializer_list<std::string_view> values, bool* overflowed) {
  return find_or_add_values(values, overflowed);
}

uint32_t LabelTable::find_or_add(const std::vector<std::string_view>& values, bool* overflowed) {
  return find_or_add_values(values, overflowed);
}

template <class Values>
uint32_t LabelTable::find_or_add_values(const Values& values, bool* overflowed) {
  auto make_key = [this](auto value_at) {
    key_.clear();
    for (size_t i = 0; i < label_count_; ++i) {
      const std::string_view value = cut_label_value(value_at(i), max_value_bytes_);
      const auto size = static_cast<uint32_t>(value.size());
      key_.append(reinterpret_cast<const char*>(&size), sizeof(size));
      key_.append(value);
    }
  };
  auto given = [&values](size_t i) {
    return i < values.size() ? *(values.begin() + static_cast<std::ptrdiff_t>(i)) : std::string_view();
  };
  make_key(given);
  if (const auto found = index_.find(key_); found != index_.end()) return found->second;
  if (size() >= max_sets_) {
    *overflowed = true;
    // The "_other" set is found by its values, so a producer that logs
    // "_other" itself shares it rather than making a second series with the
    // same labels (which Prometheus would refuse).
    make_key([](size_t) { return kOtherLabel; });
    if (const auto found = index_.find(key_); found != index_.end()) return found->second;
    const auto index = static_cast<uint32_t>(size());
    for (size_t i = 0; i < label_count_; ++i) values_.emplace_back(kOtherLabel);
    index_.emplace(key_, index);
    return index;
  }
  const auto index = static_cast<uint32_t>(size());
  for (size_t i = 0; i < label_count_; ++i) values_.emplace_back(cut_label_value(given(i), max_value_bytes_));
  index_.emplace(key_, index);
  return index;
}

}  // namespace ringtail::reader
