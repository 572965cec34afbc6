// Little-endian fixed-size fields and length-prefixed byte strings, for the
// reader's own small binary files (resume points, store checkpoints):
// ByteWriter appends them, ByteReader takes them off the front of untrusted
// bytes, bounds-checked: any read past the end, or a length over its limit,
// makes failed() true and yields zeros / an empty view from then on.
//
// Little-endian on every host ringtail builds for (the ABI assumes the same).
//
// Threading: plain values.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ringtail::reader {

inline void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
inline void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
// A u32 length, then the bytes.
inline void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes);
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : rest_(bytes) {}
  bool failed() const { return failed_; }
  bool done() const { return rest_.empty(); }
  uint32_t u32() { return take<uint32_t>(); }
  uint64_t u64() { return take<uint64_t>(); }
  // What put_bytes() wrote, at most `limit` bytes long.
  std::string_view bytes(size_t limit) {
    const uint32_t size = u32();
    if (failed_ || size > limit || size > rest_.size()) {
      failed_ = true;
      return {};
    }
    std::string_view out = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return out;
  }

 private:
  template <class T>
  T take() {
    T v{};
    if (failed_ || rest_.size() < sizeof(T)) {
      failed_ = true;
      return v;
    }
    std::memcpy(&v, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return v;
  }

  std::string_view rest_;
  bool failed_ = false;
};

}  // namespace ringtail::reader
