// The two encodings of an OTLP/HTTP request body, behind one interface so
// that the OTLP encoder (otlp_encoder.cpp) walks its records once for
// either: ProtobufWriter writes the protobuf wire format, OtlpJsonWriter the
// JSON mapping OTLP/HTTP defines (lowerCamelCase names, 64-bit integers as
// decimal strings, trace and span ids as lowercase hex).
//
// Every call names a field twice, by number (protobuf) and by JSON name;
// each writer uses its own. A list item is a message opened with an empty
// name. Strings come in three forms: raw bytes (string), JSON text with its
// quotes as the drain wrote it (json_string), and that text without its
// quotes (escaped); JSON copies the last two as they are, protobuf unescapes
// them. raw_items() appends items a writer of the same kind encoded before
// (a span's attributes kept from its start). A writer is reused: target()
// points it at a string to append to, commit() makes that string's size
// exact (the protobuf writer grows it ahead of its writing).
//
// Internal to the reader's sources (not installed). Not thread-safe; the
// caller owns the strings written to.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/reader/output/json_text.hpp"

namespace ringtail::reader::internal {

class ProtobufWriter {
 public:
  ProtobufWriter() = default;
  ~ProtobufWriter() { commit(); }
  ProtobufWriter(const ProtobufWriter&) = delete;
  ProtobufWriter& operator=(const ProtobufWriter&) = delete;

  // Appends to `out` from now on (no message may be open). The string is
  // grown ahead of the writing and written through a pointer (a bounds check
  // per call, no per-byte push_back); its size is exact again after
  // commit(), which target() does for the string it leaves.
  void target(std::string& out) {
    if (out_ == &out) return;
    commit();
    out_ = &out;
    cursor_ = out.size();
  }
  void commit() {
    if (out_ != nullptr) out_->resize(cursor_);
  }
  // commit(), and forget the string (it may move or go away).
  void release() {
    commit();
    out_ = nullptr;
  }

  // A nested message: its tag, then room for its length, which close()
  // fills in, widening or narrowing the room when the length needs more or
  // fewer bytes (moving the message). open() leaves one byte (most
  // attributes are under 128 bytes), open_record() two (most log records and
  // spans are 128 bytes to 16 KiB), so the common case moves nothing.
  void open(uint32_t field, std::string_view /*json_name*/) { open_with(field, 1); }
  void open_record(uint32_t field, std::string_view /*json_name*/) { open_with(field, 2); }
  void close() {
    const Opened opened = opened_.back();
    opened_.pop_back();
    const size_t body = opened.at + opened.room;
    const uint64_t length = cursor_ - body;
    char bytes[kMaxVarint];
    const size_t n = encode_varint(bytes, length);
    if (n != opened.room) {
      if (n > opened.room) ensure(n - opened.room);
      char* base = out_->data();
      std::memmove(base + opened.at + n, base + body, length);
      cursor_ = opened.at + n + length;
    }
    std::memcpy(out_->data() + opened.at, bytes, n);
  }
  void open_list(std::string_view /*json_name*/) {}
  void close_list() {}
  void raw_items(std::string_view encoded) { append(encoded); }

  void string(uint32_t field, std::string_view /*json_name*/, std::string_view bytes) {
    ensure(2 * kMaxVarint + bytes.size());
    tag(field, kLengthDelimited);
    varint(bytes.size());
    std::memcpy(out_->data() + cursor_, bytes.data(), bytes.size());
    cursor_ += bytes.size();
  }
  void json_string(uint32_t field, std::string_view json_name, std::string_view written) {
    string(field, json_name, json_string_text(written, scratch_));
  }
  void escaped(uint32_t field, std::string_view json_name, std::string_view written) {
    string(field, json_name, json_string_text(written, scratch_));
  }
  void id(uint32_t field, std::string_view json_name, const uint8_t* bytes, size_t size) {
    string(field, json_name, std::string_view(reinterpret_cast<const char*>(bytes), size));
  }
  void fixed64(uint32_t field, std::string_view /*json_name*/, uint64_t value) {
    ensure(kMaxVarint + 8);
    tag(field, kFixed64);
    for (int i = 0; i < 8; ++i) out_->data()[cursor_++] = static_cast<char>(value >> (8 * i));
  }
  void int64(uint32_t field, std::string_view /*json_name*/, int64_t value) {
    ensure(2 * kMaxVarint);
    tag(field, kVarint);
    varint(static_cast<uint64_t>(value));  // two's complement: 10 bytes when negative
  }
  void enumeration(uint32_t field, std::string_view /*json_name*/, uint32_t value) {
    ensure(2 * kMaxVarint);
    tag(field, kVarint);
    varint(value);
  }
  void boolean(uint32_t field, std::string_view /*json_name*/, bool value) {
    ensure(kMaxVarint + 1);
    tag(field, kVarint);
    out_->data()[cursor_++] = value ? '\1' : '\0';
  }
  void float64(uint32_t field, std::string_view json_name, double value) {
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    fixed64(field, json_name, bits);
  }

 private:
  static constexpr uint32_t kVarint = 0;
  static constexpr uint32_t kFixed64 = 1;
  static constexpr uint32_t kLengthDelimited = 2;
  static constexpr size_t kMaxVarint = 10;
  // What the string grows by at least: small enough that the zeroes
  // resize() writes cost little, large enough to grow rarely.
  static constexpr size_t kGrowth = 4096;

  struct Opened {
    size_t at;      // where its length goes
    uint32_t room;  // bytes left for it
  };

  static size_t encode_varint(char* out, uint64_t value) {
    size_t n = 0;
    while (value >= 0x80) {
      out[n++] = static_cast<char>((value & 0x7F) | 0x80);
      value >>= 7;
    }
    out[n++] = static_cast<char>(value);
    return n;
  }
  // Room for `bytes` more at the cursor.
  void ensure(size_t bytes) {
    if (out_->size() - cursor_ < bytes) out_->resize(cursor_ + std::max(bytes, kGrowth));
  }
  // The callers ensure room first.
  void varint(uint64_t value) { cursor_ += encode_varint(out_->data() + cursor_, value); }
  void tag(uint32_t field, uint32_t wire_type) { varint(uint64_t{field} << 3 | wire_type); }
  void append(std::string_view bytes) {
    ensure(bytes.size());
    std::memcpy(out_->data() + cursor_, bytes.data(), bytes.size());
    cursor_ += bytes.size();
  }
  void open_with(uint32_t field, uint32_t room) {
    ensure(kMaxVarint + room);
    tag(field, kLengthDelimited);
    opened_.push_back(Opened{cursor_, room});
    cursor_ += room;
  }

  std::string* out_ = nullptr;
  size_t cursor_ = 0;  // the end of what is written; out_->size() is at least this
  std::vector<Opened> opened_;
  std::string scratch_;
};

class OtlpJsonWriter {
 public:
  // Appends to `out` from now on. `out` may hold items already (a buffer of
  // records): the next value is then separated from them by a comma.
  void target(std::string& out) {
    out_ = &out;
    first_ = out.empty();
  }
  void commit() {}  // appends as it goes
  void release() { out_ = nullptr; }

  void open(uint32_t /*field*/, std::string_view json_name) {
    member(json_name);
    out_->push_back('{');
    first_ = true;
  }
  void open_record(uint32_t field, std::string_view json_name) { open(field, json_name); }
  void close() {
    out_->push_back('}');
    first_ = false;
  }
  void open_list(std::string_view json_name) {
    member(json_name);
    out_->push_back('[');
    first_ = true;
  }
  void close_list() {
    out_->push_back(']');
    first_ = false;
  }
  void raw_items(std::string_view encoded) {
    if (encoded.empty()) return;
    member({});
    out_->append(encoded);
    first_ = false;
  }

  void string(uint32_t /*field*/, std::string_view json_name, std::string_view bytes) {
    member(json_name);
    append_json_string(*out_, bytes);
  }
  void json_string(uint32_t /*field*/, std::string_view json_name, std::string_view written) {
    member(json_name);
    out_->append(written);
  }
  void escaped(uint32_t /*field*/, std::string_view json_name, std::string_view written) {
    member(json_name);
    out_->push_back('"');
    out_->append(written);
    out_->push_back('"');
  }
  void id(uint32_t /*field*/, std::string_view json_name, const uint8_t* bytes, size_t size) {
    static constexpr char kHex[] = "0123456789abcdef";
    member(json_name);
    out_->push_back('"');
    for (size_t i = 0; i < size; ++i) {
      out_->push_back(kHex[bytes[i] >> 4]);
      out_->push_back(kHex[bytes[i] & 0xF]);
    }
    out_->push_back('"');
  }
  // 64-bit integers are strings in the JSON mapping (JavaScript reads them whole).
  void fixed64(uint32_t /*field*/, std::string_view json_name, uint64_t value) {
    member(json_name);
    out_->push_back('"');
    append_json_uint(*out_, value);
    out_->push_back('"');
  }
  void int64(uint32_t /*field*/, std::string_view json_name, int64_t value) {
    member(json_name);
    out_->push_back('"');
    append_json_int(*out_, value);
    out_->push_back('"');
  }
  void enumeration(uint32_t /*field*/, std::string_view json_name, uint32_t value) {
    member(json_name);
    append_json_uint(*out_, value);
  }
  void boolean(uint32_t /*field*/, std::string_view json_name, bool value) {
    member(json_name);
    out_->append(value ? "true" : "false");
  }
  // NaN and the infinities as the strings the JSON mapping takes.
  void float64(uint32_t /*field*/, std::string_view json_name, double value) {
    member(json_name);
    append_json_double(*out_, value);
  }

 private:
  // A comma unless first, then "name": (nothing for a list item).
  void member(std::string_view json_name) {
    if (!first_) out_->push_back(',');
    first_ = false;
    if (json_name.empty()) return;
    out_->push_back('"');
    out_->append(json_name);
    out_->append("\":");
  }

  std::string* out_ = nullptr;
  bool first_ = true;
};

}  // namespace ringtail::reader::internal
