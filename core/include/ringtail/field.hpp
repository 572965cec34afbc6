// ringtail::kv — a named value for a call site, and how it is encoded.
//
//   RINGTAIL_INFO("tool call", ringtail::kv("step_id", 3), ringtail::kv("tool", name));
//
// Keys are string literals (they are written once, into the call-site table).
// Values: bool, every integer width, enums (as their underlying integer),
// float, double, std::string_view, const char* (nullptr logs as ""),
// std::string, character arrays, and std::chrono durations (as signed 64-bit
// nanoseconds). A string value is referenced, not copied, until the event is
// written: a temporary lives until the end of the logging statement.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/ring_writer.hpp"

namespace ringtail {

// A duration, normalised to nanoseconds.
struct DurationNs {
  int64_t ns;
};

template <class V>
struct Field {
  const char* key;
  V value;
};

// A character array's contents, known at compile time to be at most
// kMaxBytes long: string literals up to kMinStringCap bytes are never cut,
// so their length needs no clamp on the hot path.
template <size_t kMaxBytes>
struct BoundedString {
  std::string_view text;
};

// The smallest max_string_bytes that init() accepts.
inline constexpr uint32_t kMinStringCap = 16;

namespace detail {

template <class T>
struct IsDuration : std::false_type {};
template <class Rep, class Period>
struct IsDuration<std::chrono::duration<Rep, Period>> : std::true_type {};

template <class>
inline constexpr bool kUnsupported = false;

template <class I>
constexpr auto fixed_width_integer(I value) noexcept {
  if constexpr (std::is_signed_v<I>) {
    if constexpr (sizeof(I) == 1)
      return static_cast<int8_t>(value);
    else if constexpr (sizeof(I) == 2)
      return static_cast<int16_t>(value);
    else if constexpr (sizeof(I) == 4)
      return static_cast<int32_t>(value);
    else
      return static_cast<int64_t>(value);
  } else {
    if constexpr (sizeof(I) == 1)
      return static_cast<uint8_t>(value);
    else if constexpr (sizeof(I) == 2)
      return static_cast<uint16_t>(value);
    else if constexpr (sizeof(I) == 4)
      return static_cast<uint32_t>(value);
    else
      return static_cast<uint64_t>(value);
  }
}

template <class V>
constexpr shm::FieldType field_type() noexcept {
  using shm::FieldType;
  if constexpr (std::is_same_v<V, bool>)
    return FieldType::kBool;
  else if constexpr (std::is_same_v<V, int8_t>)
    return FieldType::kI8;
  else if constexpr (std::is_same_v<V, int16_t>)
    return FieldType::kI16;
  else if constexpr (std::is_same_v<V, int32_t>)
    return FieldType::kI32;
  else if constexpr (std::is_same_v<V, int64_t>)
    return FieldType::kI64;
  else if constexpr (std::is_same_v<V, uint8_t>)
    return FieldType::kU8;
  else if constexpr (std::is_same_v<V, uint16_t>)
    return FieldType::kU16;
  else if constexpr (std::is_same_v<V, uint32_t>)
    return FieldType::kU32;
  else if constexpr (std::is_same_v<V, uint64_t>)
    return FieldType::kU64;
  else if constexpr (std::is_same_v<V, float>)
    return FieldType::kF32;
  else if constexpr (std::is_same_v<V, double>)
    return FieldType::kF64;
  else if constexpr (std::is_same_v<V, std::string_view>)
    return FieldType::kString;
  else if constexpr (requires { V::text; })
    return FieldType::kString;
  else if constexpr (std::is_same_v<V, DurationNs>)
    return FieldType::kDurationNs;
  else
    static_assert(kUnsupported<V>, "not a normalised field type");
}

// Bytes the field takes in a record.
template <class V>
[[gnu::always_inline]] inline uint32_t encoded_bytes(const V&, uint32_t) noexcept {
  return 8;
}
[[gnu::always_inline]] inline uint32_t stored_string_bytes(std::string_view value, uint32_t max_string_bytes) noexcept {
  return static_cast<uint32_t>(value.size() < max_string_bytes ? value.size() : max_string_bytes);
}
template <size_t kMaxBytes>
[[gnu::always_inline]] inline uint32_t stored_string_bytes(BoundedString<kMaxBytes> value,
                                                           uint32_t max_string_bytes) noexcept {
  if constexpr (kMaxBytes <= kMinStringCap) {
    (void)max_string_bytes;
    return static_cast<uint32_t>(value.text.size());
  } else {
    return stored_string_bytes(value.text, max_string_bytes);
  }
}
[[gnu::always_inline]] inline uint32_t encoded_bytes(std::string_view value, uint32_t max_string_bytes) noexcept {
  return shm::string_field_bytes(stored_string_bytes(value, max_string_bytes));
}
template <size_t kMaxBytes>
[[gnu::always_inline]] inline uint32_t encoded_bytes(BoundedString<kMaxBytes> value,
                                                     uint32_t max_string_bytes) noexcept {
  return shm::string_field_bytes(stored_string_bytes(value, max_string_bytes));
}

// Writes the field at `out` (8-byte aligned); returns the end.
template <class V>
[[gnu::always_inline]] inline std::byte* encode(std::byte* out, const V& value, uint32_t) noexcept {
  uint64_t word = 0;
  if constexpr (std::is_same_v<V, DurationNs>) {
    word = static_cast<uint64_t>(value.ns);
  } else if constexpr (std::is_same_v<V, float> || std::is_same_v<V, double>) {
    std::memcpy(&word, &value, sizeof(V));
  } else {
    // Integers and bool: sign- or zero-extended to 64 bits.
    word = static_cast<uint64_t>(std::conditional_t<std::is_signed_v<V>, int64_t, uint64_t>(value));
  }
  std::memcpy(out, &word, sizeof(word));
  return out + sizeof(word);
}
[[gnu::always_inline]] inline std::byte* encode_string(std::byte* out, std::string_view value,
                                                       uint32_t stored) noexcept {
  const shm::StringHeader header{stored, static_cast<uint32_t>(value.size() < UINT32_MAX ? value.size() : UINT32_MAX)};
  std::memcpy(out, &header, sizeof(header));
  out += sizeof(header);
  const uint32_t padded = (stored + 7U) & ~7U;
  if (padded != stored) {
    // Zero the last word first so that the padding never carries stale ring bytes.
    const uint64_t zero = 0;
    std::memcpy(out + padded - 8, &zero, sizeof(zero));
  }
  if (stored != 0) std::memcpy(out, value.data(), stored);
  return out + padded;
}
[[gnu::always_inline]] inline std::byte* encode(std::byte* out, std::string_view value,
                                                uint32_t max_string_bytes) noexcept {
  return encode_string(out, value, stored_string_bytes(value, max_string_bytes));
}
template <size_t kMaxBytes>
[[gnu::always_inline]] inline std::byte* encode(std::byte* out, BoundedString<kMaxBytes> value,
                                                uint32_t max_string_bytes) noexcept {
  return encode_string(out, value.text, stored_string_bytes(value, max_string_bytes));
}

}  // namespace detail

// Makes a field. Rejected at compile time: plain `char` (log it as a string
// or an integer), pointers other than const char*, and other class types.
template <size_t N, class T>
constexpr auto kv(const char (&key)[N], const T& value) noexcept {
  using D = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<D, bool>) {
    return Field<bool>{key, value};
  } else if constexpr (std::is_same_v<D, char>) {
    static_assert(detail::kUnsupported<D>, "ringtail::kv: log a char as std::string_view(&c, 1) or as an int");
  } else if constexpr (std::is_enum_v<D>) {
    return Field<decltype(detail::fixed_width_integer(static_cast<std::underlying_type_t<D>>(value)))>{
        key, detail::fixed_width_integer(static_cast<std::underlying_type_t<D>>(value))};
  } else if constexpr (std::is_integral_v<D>) {
    return Field<decltype(detail::fixed_width_integer(value))>{key, detail::fixed_width_integer(value)};
  } else if constexpr (std::is_same_v<D, float> || std::is_same_v<D, double>) {
    return Field<D>{key, value};
  } else if constexpr (detail::IsDuration<D>::value) {
    return Field<DurationNs>{key, DurationNs{std::chrono::duration_cast<std::chrono::nanoseconds>(value).count()}};
  } else if constexpr (std::is_same_v<D, const char*> || std::is_same_v<D, char*>) {
    return Field<std::string_view>{key, value != nullptr ? std::string_view(value) : std::string_view()};
  } else if constexpr (std::is_array_v<D> && std::is_same_v<std::remove_cv_t<std::remove_extent_t<D>>, char>) {
    // A literal ends with its NUL, so its length folds to a constant; a
    // buffer without one is read up to kMaxBytes.
    constexpr size_t kMaxBytes = std::extent_v<D> == 0 ? 0 : std::extent_v<D> - 1;
    const size_t length =
        value[kMaxBytes] == '\0' ? std::char_traits<char>::length(value) : ::strnlen(value, kMaxBytes);
    return Field<BoundedString<kMaxBytes>>{key, BoundedString<kMaxBytes>{std::string_view(value, length)}};
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return Field<std::string_view>{key, std::string_view(value)};
  } else {
    static_assert(detail::kUnsupported<D>, "ringtail::kv: unsupported value type");
  }
}

}  // namespace ringtail
