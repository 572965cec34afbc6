// Demangling for error types and stack frames, cached per thread. See demangle.hpp.
#include "demangle.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>

namespace ringtail::reader::detail {
namespace {

constexpr size_t kMaxMangledBytes = 512;
constexpr size_t kMaxShownBytes = 4096;
constexpr size_t kMaxFrameBytes = 1024;  // longer frames are shown as they are, uncached
constexpr size_t kMaxCachedNames = 1024;

bool demanglable(std::string_view name) {
  if (name.empty() || name.size() > kMaxMangledBytes) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// `name` demangled, or empty when it does not demangle (or too long).
std::string demangle(std::string_view name) {
  char mangled[kMaxMangledBytes + 1];
  std::memcpy(mangled, name.data(), name.size());
  mangled[name.size()] = '\0';
  int status = 0;
  char* text = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string shown;
  if (status == 0 && text != nullptr && std::strlen(text) <= kMaxShownBytes) shown = text;
  std::free(text);
  return shown;
}

struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
using ShownCache = std::unordered_map<std::string, std::string, TextHash, std::equal_to<>>;

// The cached text for `key`, made by make(key) on a miss.
template <class Make>
std::string_view cached(ShownCache& cache, std::string_view key, Make make) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (cache.size() >= kMaxCachedNames) cache.clear();
  return cache.emplace(std::string(key), make(key)).first->second;
}

}  // namespace

std::string_view shown_mangled_type(std::string_view type) {
  if (!demanglable(type)) return type;
  thread_local ShownCache types;
  return cached(types, type, [](std::string_view name) {
    std::string shown = demangle(name);
    return shown.empty() ? std::string(name) : shown;
  });
}

std::string_view shown_frame(std::string_view frame) {
  // "… (<symbol>+0x<offset>)": the symbol is what lies between the last " ("
  // and the last '+'.
  if (frame.size() > kMaxFrameBytes || !frame.ends_with(')')) return frame;
  const size_t open = frame.rfind(" (");
  if (open == std::string_view::npos) return frame;
  const std::string_view inner = frame.substr(open + 2, frame.size() - open - 3);
  const size_t plus = inner.rfind('+');
  if (plus == std::string_view::npos) return frame;
  const std::string_view symbol = inner.substr(0, plus);
  if (!symbol.starts_with("_Z") || !demanglable(symbol)) return frame;
  thread_local ShownCache frames;
  return cached(frames, frame, [&](std::string_view) {
    const std::string name = demangle(symbol);
    if (name.empty()) return std::string(frame);
    std::string shown(frame.substr(0, open + 2));
    shown += name;
    shown += inner.substr(plus);
    shown += ')';
    return shown;
  });
}

}  // namespace ringtail::reader::detail
