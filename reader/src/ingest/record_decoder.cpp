#include "ringtail/reader/ingest/record_decoder.hpp"

#include <bit>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

static_assert(std::endian::native == std::endian::little, "the ABI's words are little-endian");

uint64_t word_at(const std::byte* p) {
  uint64_t word = 0;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

bool fits_signed(uint64_t word, int bits) {
  const int64_t value = static_cast<int64_t>(word);
  const int64_t max = (int64_t{1} << (bits - 1)) - 1;
  return value >= -max - 1 && value <= max;
}

template <class T>
void set_value(FieldValue& slot, T value) {
  if (T* held = std::get_if<T>(&slot)) {
    *held = value;
  } else {
    slot.template emplace<T>(value);
  }
}

// What set_scalar() answers for a type that is not a scalar (a string, an
// error, or a code no CallSiteTable admits): decode_value() handles those.
constexpr const char* kNotScalar = "";

// A scalar field's 8-byte word into `value`: nullptr when it is one of its
// type, else what it is not (kNotScalar for a type that is no scalar).
// Inlined into the per-field loop: most fields are scalars.
[[gnu::always_inline]] inline const char* set_scalar(shm::FieldType type, uint64_t word, FieldValue& value) {
  using shm::FieldType;
  switch (type) {
    case FieldType::kBool:
      if (word > 1) return "a bool";
      set_value<bool>(value, word != 0);
      return nullptr;
    case FieldType::kI8:
    case FieldType::kI16:
    case FieldType::kI32: {
      const int bits = type == FieldType::kI8 ? 8 : type == FieldType::kI16 ? 16 : 32;
      if (!fits_signed(word, bits)) return "a sign-extended integer of its width";
      set_value<int64_t>(value, static_cast<int64_t>(word));
      return nullptr;
    }
    case FieldType::kI64:
      set_value<int64_t>(value, static_cast<int64_t>(word));
      return nullptr;
    case FieldType::kU8:
    case FieldType::kU16:
    case FieldType::kU32: {
      const int bits = type == FieldType::kU8 ? 8 : type == FieldType::kU16 ? 16 : 32;
      if ((word >> bits) != 0) return "a zero-extended integer of its width";
      set_value<uint64_t>(value, word);
      return nullptr;
    }
    case FieldType::kU64:
      set_value<uint64_t>(value, word);
      return nullptr;
    case FieldType::kF32: {
      if ((word >> 32) != 0) return "a float followed by 4 zero bytes";
      const uint32_t bits = static_cast<uint32_t>(word);
      set_value<float>(value, std::bit_cast<float>(bits));
      return nullptr;
    }
    case FieldType::kF64:
      set_value<double>(value, std::bit_cast<double>(word));
      return nullptr;
    case FieldType::kDurationNs:
      set_value<DurationValue>(value, DurationValue{static_cast<int64_t>(word)});
      return nullptr;
    case FieldType::kNull:
      if (word != 0) return "zero (a null's word)";
      if (!std::holds_alternative<NullValue>(value)) value.emplace<NullValue>();
      return nullptr;
    default:
      return kNotScalar;
  }
}

}  // namespace

absl::Status decode_value(const std::byte* record, uint32_t size, uint64_t& pos, shm::FieldType type,
                          uint32_t max_string_bytes, FieldValue& value) {
  using shm::FieldType;
  if (pos > size || size - pos < 8) {
    return absl::DataLossError(absl::StrCat("starts at byte ", pos, ", past the end of the ", size, "-byte record"));
  }
  const uint64_t at = pos;
  const uint64_t word = word_at(record + pos);
  pos += 8;
  // The reason names the word's place, never its bytes: a corrupt record's
  // word may be a secret's bytes, and reasons reach notes and reports.
  auto bad_value = [&](const char* what) {
    return absl::DataLossError(absl::StrCat("the word at byte ", at, " is not ", what));
  };
  switch (type) {
    case FieldType::kString: {
      pos -= 8;
      StringValue* string = std::get_if<StringValue>(&value);
      if (string == nullptr) string = &value.emplace<StringValue>();
      return decode_string(record, size, pos, max_string_bytes, *string);
    }
    case FieldType::kError: {
      // ErrorHeader (16 bytes: flags, reserved, code), then type, message
      // and stack, each a string like any other.
      if (size - pos < 8) return bad_value("an ErrorHeader: the record ends inside it");
      shm::ErrorHeader header;
      static_assert(sizeof(header) == 16);
      std::memcpy(&header, record + pos - 8, sizeof(header));
      constexpr uint32_t kKnownFlags = shm::kErrorHasCode | shm::kErrorTypeMangled;
      if ((header.flags & ~kKnownFlags) != 0 || header.reserved != 0) {
        return bad_value("an ErrorHeader's flags and reserved word (unknown flags, or reserved not zero)");
      }
      pos += 8;
      ErrorValue* error = std::get_if<ErrorValue>(&value);
      if (error == nullptr) error = &value.emplace<ErrorValue>();
      error->has_code = (header.flags & shm::kErrorHasCode) != 0;
      error->code = error->has_code ? header.code : 0;  // the ABI gives it no meaning otherwise
      error->type_mangled = (header.flags & shm::kErrorTypeMangled) != 0;
      if (absl::Status s = decode_string(record, size, pos, max_string_bytes, error->type); !s.ok()) {
        return absl::DataLossError(absl::StrCat("error type: ", s.message()));
      }
      if (absl::Status s = decode_string(record, size, pos, max_string_bytes, error->message); !s.ok()) {
        return absl::DataLossError(absl::StrCat("error message: ", s.message()));
      }
      if (absl::Status s = decode_string(record, size, pos, max_string_bytes, error->stack); !s.ok()) {
        return absl::DataLossError(absl::StrCat("error stack: ", s.message()));
      }
      return absl::OkStatus();
    }
    default:
      if (const char* what = set_scalar(type, word, value); what != kNotScalar) {
        return what == nullptr ? absl::OkStatus() : bad_value(what);
      }
      // CallSiteTable admits only known types; this guards against a caller's own CallSiteInfo.
      return absl::DataLossError(absl::StrCat("unknown type code ", static_cast<int>(type)));
  }
}

absl::Status decode_string(const std::byte* record, uint32_t size, uint64_t& pos, uint32_t max_string_bytes,
                           StringValue& out) {
  if (pos > size || size - pos < sizeof(shm::StringHeader)) {
    return absl::DataLossError(
        absl::StrCat("string starts at byte ", pos, ", past the end of the ", size, "-byte record"));
  }
  shm::StringHeader header;
  std::memcpy(&header, record + pos, sizeof(header));
  pos += sizeof(header);
  if (header.stored_bytes > header.original_bytes) {
    return absl::DataLossError(
        absl::StrCat("string stores ", header.stored_bytes, " bytes of a ", header.original_bytes, "-byte value"));
  }
  if (header.stored_bytes > max_string_bytes) {
    return absl::DataLossError(
        absl::StrCat("string stores ", header.stored_bytes, " bytes, more than max_string_bytes ", max_string_bytes));
  }
  const uint64_t padded = (uint64_t{header.stored_bytes} + 7) & ~uint64_t{7};
  if (padded > size - pos) {
    return absl::DataLossError(absl::StrCat("string of ", header.stored_bytes, " bytes at byte ", pos,
                                            " runs past the end of the ", size, "-byte record"));
  }
  // The padding is the top (padded - stored) bytes of the string's last
  // word (little-endian): one load and a mask rather than a loop per byte.
  if (const uint64_t pad = padded - header.stored_bytes; pad != 0) {
    const uint64_t last_word = word_at(record + pos + padded - 8);
    if ((last_word >> (64 - 8 * pad)) != 0) {
      uint64_t b = pos + header.stored_bytes;
      while (record[b] == std::byte{0}) ++b;  // stops inside the padding: some byte there is not zero
      return absl::DataLossError(absl::StrCat("string padding byte ", b, " is not zero"));
    }
  }
  out.bytes.assign(reinterpret_cast<const char*>(record + pos), header.stored_bytes);
  out.original_bytes = header.original_bytes;
  out.cut = header.original_bytes > header.stored_bytes;
  pos += padded;
  return absl::OkStatus();
}

absl::Status decode_event_fields(const std::byte* record, uint32_t size, const CallSiteInfo& site,
                                 uint32_t max_string_bytes, DecodedEvent& out) {
  const size_t field_count = site.fields.size();
  out.fields.resize(field_count);
  uint64_t pos = sizeof(shm::RecordHeader);
  if (size < pos)
    return absl::DataLossError(absl::StrCat("event record of ", size, " bytes has no room for its header"));
  // Read once: a string's bytes are copied through a char*, which may alias
  // anything, so the compiler would reload these per field.
  const FieldInfo* const infos = site.fields.data();
  DecodedField* const fields = out.fields.data();
  for (size_t i = 0; i < field_count; ++i) {
    const FieldInfo& info = infos[i];
    DecodedField& field = fields[i];
    field.name = info.name;
    field.type = info.type;
    // A scalar that is one of its type, inline; anything else (strings,
    // errors, and every failure, for its message) through decode_value().
    if (pos <= size && size - pos >= 8 && set_scalar(info.type, word_at(record + pos), field.value) == nullptr) {
      pos += 8;
      continue;
    }
    if (absl::Status s = decode_value(record, size, pos, info.type, max_string_bytes, field.value); !s.ok()) {
      return absl::DataLossError(absl::StrCat("field ", i, " (", info.name, "): ", s.message()));
    }
  }
  if (pos != size) {
    return absl::DataLossError(
        absl::StrCat("record is ", size, " bytes but its ", field_count, " fields end at byte ", pos));
  }
  return absl::OkStatus();
}

}  // namespace ringtail::reader
