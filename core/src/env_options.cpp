// Options from RINGTAIL_* environment variables.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ringtail/options.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail {
namespace {

absl::Status bad(const char* variable, const char* value, const char* expected) {
  return absl::InvalidArgumentError(absl::StrCat(variable, "='", value, "': expected ", expected));
}

// Bytes with an optional K, M or G suffix (powers of 1024).
bool parse_bytes(std::string_view text, uint64_t* out) {
  uint64_t scale = 1;
  if (!text.empty()) {
    switch (absl::ascii_toupper(static_cast<unsigned char>(text.back()))) {
      case 'K':
        scale = uint64_t{1} << 10;
        break;
      case 'M':
        scale = uint64_t{1} << 20;
        break;
      case 'G':
        scale = uint64_t{1} << 30;
        break;
      default:
        break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &value) || value > UINT64_MAX / scale)
    return false;
  *out = value * scale;
  return true;
}

}  // namespace

std::optional<Level> parse_level(std::string_view text) { return shm::parse_level(text); }

std::string_view level_name(Level level) {
  const std::string_view name = shm::level_name(level);
  return name.empty() ? "UNKNOWN" : name;
}

absl::StatusOr<Options> options_from_env() {
  Options options;
  auto get = [](const char* name) -> const char* { return std::getenv(name); };
  if (const char* v = get("RINGTAIL_SERVICE")) options.service = v;
  if (const char* v = get("RINGTAIL_LEVEL")) {
    const std::optional<Level> level = parse_level(v);
    if (!level) return bad("RINGTAIL_LEVEL", v, "trace, debug, info, warn, error, critical or off");
    options.min_level = *level;
  }
  if (const char* v = get("RINGTAIL_RING_BYTES")) {
    if (!parse_bytes(v, &options.ring_bytes)) return bad("RINGTAIL_RING_BYTES", v, "bytes, e.g. 1048576 or 1M");
  }
  if (const char* v = get("RINGTAIL_MODE")) {
    const std::string_view text = v;
    if (text == "normal") {
      options.mode = RingMode::kNormal;
    } else if (text == "flight") {
      options.mode = RingMode::kFlight;
    } else {
      return bad("RINGTAIL_MODE", v, "normal or flight");
    }
  }
  if (const char* v = get("RINGTAIL_MAX_THREADS")) {
    if (!absl::SimpleAtoi(v, &options.max_threads)) return bad("RINGTAIL_MAX_THREADS", v, "a count");
  }
  if (const char* v = get("RINGTAIL_MAX_CALLSITES")) {
    if (!absl::SimpleAtoi(v, &options.max_callsites)) return bad("RINGTAIL_MAX_CALLSITES", v, "a count");
  }
  if (const char* v = get("RINGTAIL_MAX_STRING_BYTES")) {
    uint64_t bytes = 0;
    if (!parse_bytes(v, &bytes) || bytes > UINT32_MAX) return bad("RINGTAIL_MAX_STRING_BYTES", v, "bytes");
    options.max_string_bytes = static_cast<uint32_t>(bytes);
  }
  if (const char* v = get("RINGTAIL_AUDIT_WAIT_MS")) {
    uint32_t ms = 0;
    if (!absl::SimpleAtoi(v, &ms)) return bad("RINGTAIL_AUDIT_WAIT_MS", v, "milliseconds");
    options.audit_wait = std::chrono::milliseconds(ms);
  }
  if (const char* v = get("RINGTAIL_SAMPLE")) options.sample = v;  // checked by init()
  if (const char* v = get("RINGTAIL_HASH_KEY_FILE")) {
    std::ifstream file(v, std::ios::binary);
    std::string key((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (!file.good() && !file.eof()) return bad("RINGTAIL_HASH_KEY_FILE", v, "a readable file");
    if (key.empty()) return bad("RINGTAIL_HASH_KEY_FILE", v, "a file holding the key (it is missing or empty)");
    options.hash_key = std::move(key);
  }
  if (const char* v = get("RINGTAIL_ERROR_STACKS")) {
    const std::string_view text = v;
    if (text != "0" && text != "1") return bad("RINGTAIL_ERROR_STACKS", v, "0 or 1");
    options.error_stacks = text == "1";
  }
  if (const char* v = get("RINGTAIL_SHM_MODE")) {
    const std::string_view text = v;
    char* end = nullptr;
    const unsigned long mode = std::strtoul(v, &end, 8);
    if (text.empty() || end != v + text.size() || mode > 0777) {
      return bad("RINGTAIL_SHM_MODE", v, "octal permission bits, e.g. 0600 or 0640");
    }
    options.shm_mode = static_cast<uint32_t>(mode);
  }
  return options;
}

}  // namespace ringtail
