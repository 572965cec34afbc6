// ringtail::kv — a named value for a call site, and how it is encoded.
//
//   RINGTAIL_INFO("tool call", ringtail::kv("step_id", 3), ringtail::kv("tool", name));
//
// Keys are string literals (they are written once, into the call-site table).
// Values: bool, every integer width, enums (as their underlying integer),
// float, double, std::string_view, const char* (a null const char* logs as
// ""), std::string, character arrays, std::chrono durations (as signed
// 64-bit nanoseconds), errors (below) and nullptr (no value: JSON null, as
// kv("parent", nullptr)). A string value is referenced, not copied,
// until the event is written: a temporary lives until the end of the logging
// statement.
//
// Errors are written as one nested object, {"type":…,"message":…,"code":…}:
//   kv("error", e)             any std::exception (or class derived from it):
//                              its dynamic type (typeid, demangled by the
//                              reader), what(), and code().value() when it
//                              is a std::system_error (needs RTTI);
//   kv("error", ec)            a std::error_code: its category's name, its
//                              message() and its value. message() returns a
//                              std::string, so this form allocates when the
//                              field is made (after the level test); the
//                              field owns that string;
//   kv("error", ringtail::error("Timeout", "no answer in 30 s", 504))
//                              your own type, message and (optional) code.
// With Options::error_stacks (RINGTAIL_ERROR_STACKS=1), an ERROR or CRITICAL
// event also captures the calling thread's stack into its error fields.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>

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

// An error of your own, for kv("error", …): a type (a name such as
// "Timeout" or "mylib::ParseError"), a message and, when has_code, a code.
// The strings are referenced like any string value: they must live until the
// end of the logging statement.
struct Error {
  std::string_view type;
  std::string_view message;
  int64_t code = 0;
  bool has_code = false;
};

// ringtail::error(type, message) and ringtail::error(type, message, code).
constexpr Error error(std::string_view type, std::string_view message) noexcept { return Error{type, message}; }
constexpr Error error(std::string_view type, std::string_view message, int64_t code) noexcept {
  return Error{type, message, code, true};
}

namespace detail {

// kv(key, nullptr): no value (JSON null), encoded as a zero word
// (shm::FieldType::kNull).
struct NullValue {};

// kv()'s normalised error (exceptions and ringtail::Error): encoded as a
// shm::ErrorHeader and the strings type, message and stack.
struct ErrorValue {
  std::string_view type;
  std::string_view message;
  int64_t code = 0;
  uint32_t flags = 0;  // shm::kErrorHasCode, shm::kErrorTypeMangled
  // The event's captured stack, or empty. emit() sets it on every event,
  // before the record is sized: the thread's stack on an ERROR or CRITICAL
  // event while error_stacks is on (a view of the thread's capture buffer,
  // valid until its next capture, which cannot come before the statement
  // ends), empty otherwise. Held by the field, not read from the thread when
  // encoding, so that no stack outlives its event: frame records (Span::fail)
  // encode fields of their own, whose stack is empty. Mutable because emit()
  // receives its fields as const.
  mutable std::string_view stack;
};

// kv(key, std::error_code): owns ec.message()'s string, which a view could
// not keep alive past kv()'s return.
struct ErrorCodeValue {
  const char* category = "";  // std::error_category::name(): a static string
  std::string message;
  int64_t code = 0;
  mutable std::string_view stack;  // as ErrorValue::stack

  ErrorValue view() const noexcept { return ErrorValue{category, message, code, shm::kErrorHasCode, stack}; }
};

template <class V>
inline constexpr bool kIsErrorValue = std::is_same_v<V, ErrorValue> || std::is_same_v<V, ErrorCodeValue>;

// Gives an error field the event's captured stack; other fields ignore it.
template <class V>
[[gnu::always_inline]] inline void attach_error_stack(const V& value, std::string_view stack) noexcept {
  if constexpr (kIsErrorValue<V>) value.stack = stack;
  (void)value;
  (void)stack;
}

// kv(key, exception): the dynamic type's mangled name (the reader demangles
// it), what(), and the code of a std::system_error (dynamic_cast: a class
// may derive from it without the static type showing it).
template <class E>
ErrorValue exception_error(const E& e) noexcept {
  ErrorValue value{typeid(e).name(), e.what(), 0, shm::kErrorTypeMangled, {}};
  const std::system_error* system = nullptr;
  if constexpr (std::is_base_of_v<std::system_error, E>) {
    system = &e;
  } else if constexpr (std::is_polymorphic_v<E>) {
    system = dynamic_cast<const std::system_error*>(&e);
  }
  if (system != nullptr) {
    value.code = system->code().value();
    value.flags |= shm::kErrorHasCode;
  }
  return value;
}

// kv(key, std::error_code). message() may throw (std::bad_alloc): the error
// is then logged without its message rather than ending the process.
inline ErrorCodeValue error_code_error(const std::error_code& ec) noexcept {
  ErrorCodeValue value;
  value.category = ec.category().name();
  value.code = ec.value();
#if defined(__cpp_exceptions)
  try {
    value.message = ec.message();
  } catch (...) {
    // message stays empty (std::string assignment is all or nothing).
  }
#else
  value.message = ec.message();
#endif
  return value;
}

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
  else if constexpr (std::is_same_v<V, std::string_view> || requires { V::text; })
    return FieldType::kString;
  else if constexpr (std::is_same_v<V, DurationNs>)
    return FieldType::kDurationNs;
  else if constexpr (kIsErrorValue<V>)
    return FieldType::kError;
  else if constexpr (std::is_same_v<V, NullValue>)
    return FieldType::kNull;
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
// An ErrorHeader, then three strings, each cut at max_string_bytes.
inline uint32_t encoded_bytes(const ErrorValue& value, uint32_t max_string_bytes) noexcept {
  return uint32_t{sizeof(shm::ErrorHeader)} + encoded_bytes(value.type, max_string_bytes) +
         encoded_bytes(value.message, max_string_bytes) + encoded_bytes(value.stack, max_string_bytes);
}
inline uint32_t encoded_bytes(const ErrorCodeValue& value, uint32_t max_string_bytes) noexcept {
  return encoded_bytes(value.view(), max_string_bytes);
}
// A null by value: an empty object has no bytes to read, and GCC warns
// (-Wmaybe-uninitialized) when one is bound to a const reference.
[[gnu::always_inline]] inline uint32_t encoded_bytes(NullValue, uint32_t) noexcept { return 8; }

// The most bytes a field of type V can take in a record, as far as the type
// bounds it: scalars 8, a character array its string header and padded
// length; strings and errors are bounded by max_string_bytes only, at run time.
inline constexpr uint64_t kUnboundedField = uint64_t{1} << 32;
template <class V>
inline constexpr uint64_t kMaxFieldBytes = 8;
template <size_t kMaxBytes>
inline constexpr uint64_t kMaxFieldBytes<BoundedString<kMaxBytes>> = sizeof(shm::StringHeader) +
                                                                     ((kMaxBytes + 7) & ~size_t{7});
template <>
inline constexpr uint64_t kMaxFieldBytes<std::string_view> = kUnboundedField;
template <>
inline constexpr uint64_t kMaxFieldBytes<ErrorValue> = kUnboundedField;
template <>
inline constexpr uint64_t kMaxFieldBytes<ErrorCodeValue> = kUnboundedField;

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
    word = static_cast<uint64_t>(static_cast<std::conditional_t<std::is_signed_v<V>, int64_t, uint64_t>>(value));
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
inline std::byte* encode(std::byte* out, const ErrorValue& value, uint32_t max_string_bytes) noexcept {
  const shm::ErrorHeader header{value.flags, 0, value.code};
  std::memcpy(out, &header, sizeof(header));
  out += sizeof(header);
  out = encode(out, value.type, max_string_bytes);
  out = encode(out, value.message, max_string_bytes);
  return encode(out, value.stack, max_string_bytes);
}
inline std::byte* encode(std::byte* out, const ErrorCodeValue& value, uint32_t max_string_bytes) noexcept {
  return encode(out, value.view(), max_string_bytes);
}
// A null: the zero word.
[[gnu::always_inline]] inline std::byte* encode(std::byte* out, NullValue, uint32_t) noexcept {
  const uint64_t zero = 0;
  std::memcpy(out, &zero, sizeof(zero));
  return out + sizeof(zero);
}

}  // namespace detail

// Makes a field. Rejected at compile time: plain `char` (log it as a string
// or an integer), pointers other than const char*, and class types other
// than strings, durations, exceptions, std::error_code and ringtail::Error.
template <size_t N, class T>
constexpr auto kv(const char (&key)[N], const T& value) noexcept {
  using D = std::remove_cvref_t<T>;
  if constexpr (std::is_same_v<D, std::nullptr_t>) {
    // Before the string test: nullptr converts to std::string_view.
    return Field<detail::NullValue>{key, detail::NullValue{}};
  } else if constexpr (std::is_same_v<D, bool>) {
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
  } else if constexpr (std::is_same_v<D, Error>) {
    return Field<detail::ErrorValue>{
        key,
        detail::ErrorValue{
            value.type, value.message, value.has_code ? value.code : 0, value.has_code ? shm::kErrorHasCode : 0U, {}}};
  } else if constexpr (std::is_base_of_v<std::exception, D>) {
    return Field<detail::ErrorValue>{key, detail::exception_error(value)};
  } else if constexpr (std::is_same_v<D, std::error_code>) {
    return Field<detail::ErrorCodeValue>{key, detail::error_code_error(value)};
  } else {
    static_assert(detail::kUnsupported<D>, "ringtail::kv: unsupported value type");
  }
}

}  // namespace ringtail
