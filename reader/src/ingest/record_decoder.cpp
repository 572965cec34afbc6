#include "ringtail/reader/ingest/record_decoder.hpp"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

uint64_t word_at(const std::byte* p) {
  uint64_t word;
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

}  // namespace

absl::Status decode_event_fields(const std::byte* record, uint32_t size, const CallSiteInfo& site,
                                 uint32_t max_string_bytes, DecodedEvent& out) {
  using shm::FieldType;
  out.fields.resize(site.fields.size());
  uint64_t pos = sizeof(shm::RecordHeader);
  if (size < pos)
    return absl::DataLossError(absl::StrCat("event record of ", size, " bytes has no room for its header"));
  for (size_t i = 0; i < site.fields.size(); ++i) {
    const FieldInfo& info = site.fields[i];
    DecodedField& field = out.fields[i];
    field.name = info.name;
    field.type = info.type;
    if (size - pos < 8) {
      return absl::DataLossError(absl::StrCat("field ", i, " (", info.name, ") starts at byte ", pos,
                                              ", past the end of the ", size, "-byte record"));
    }
    const uint64_t word = word_at(record + pos);
    pos += 8;
    auto bad_value = [&](const char* what) {
      return absl::DataLossError(
          absl::StrCat("field ", i, " (", info.name, "): word 0x", absl::Hex(word), " is not ", what));
    };
    switch (info.type) {
      case FieldType::kBool:
        if (word > 1) return bad_value("a bool");
        set_value<bool>(field.value, word != 0);
        break;
      case FieldType::kI8:
      case FieldType::kI16:
      case FieldType::kI32: {
        const int bits = info.type == FieldType::kI8 ? 8 : info.type == FieldType::kI16 ? 16 : 32;
        if (!fits_signed(word, bits)) return bad_value("a sign-extended integer of its width");
        set_value<int64_t>(field.value, static_cast<int64_t>(word));
        break;
      }
      case FieldType::kI64:
        set_value<int64_t>(field.value, static_cast<int64_t>(word));
        break;
      case FieldType::kU8:
      case FieldType::kU16:
      case FieldType::kU32: {
        const int bits = info.type == FieldType::kU8 ? 8 : info.type == FieldType::kU16 ? 16 : 32;
        if ((word >> bits) != 0) return bad_value("a zero-extended integer of its width");
        set_value<uint64_t>(field.value, word);
        break;
      }
      case FieldType::kU64:
        set_value<uint64_t>(field.value, word);
        break;
      case FieldType::kF32: {
        if ((word >> 32) != 0) return bad_value("a float followed by 4 zero bytes");
        const uint32_t bits = static_cast<uint32_t>(word);
        float value;
        std::memcpy(&value, &bits, sizeof(value));
        set_value<float>(field.value, value);
        break;
      }
      case FieldType::kF64: {
        double value;
        std::memcpy(&value, &word, sizeof(value));
        set_value<double>(field.value, value);
        break;
      }
      case FieldType::kDurationNs:
        set_value<DurationValue>(field.value, DurationValue{static_cast<int64_t>(word)});
        break;
      case FieldType::kString: {
        shm::StringHeader header;
        std::memcpy(&header, &word, sizeof(header));
        if (header.stored_bytes > header.original_bytes) {
          return absl::DataLossError(absl::StrCat("field ", i, " (", info.name, "): string stores ",
                                                  header.stored_bytes, " bytes of a ", header.original_bytes,
                                                  "-byte value"));
        }
        if (header.stored_bytes > max_string_bytes) {
          return absl::DataLossError(absl::StrCat("field ", i, " (", info.name, "): string stores ",
                                                  header.stored_bytes, " bytes, more than max_string_bytes ",
                                                  max_string_bytes));
        }
        const uint64_t padded = (uint64_t{header.stored_bytes} + 7) & ~uint64_t{7};
        if (padded > size - pos) {
          return absl::DataLossError(absl::StrCat("field ", i, " (", info.name, "): string of ", header.stored_bytes,
                                                  " bytes at byte ", pos, " runs past the end of the ", size,
                                                  "-byte record"));
        }
        for (uint64_t b = pos + header.stored_bytes; b < pos + padded; ++b) {
          if (record[b] != std::byte{0}) {
            return absl::DataLossError(
                absl::StrCat("field ", i, " (", info.name, "): string padding byte ", b, " is not zero"));
          }
        }
        StringValue* value = std::get_if<StringValue>(&field.value);
        if (value == nullptr) value = &field.value.emplace<StringValue>();
        value->bytes.assign(reinterpret_cast<const char*>(record + pos), header.stored_bytes);
        value->original_bytes = header.original_bytes;
        value->cut = header.original_bytes > header.stored_bytes;
        pos += padded;
        break;
      }
      default:
        // CallSiteTable admits only known types; this guards against a caller's own CallSiteInfo.
        return absl::DataLossError(
            absl::StrCat("field ", i, " (", info.name, ") has unknown type code ", static_cast<int>(info.type)));
    }
  }
  if (pos != size) {
    return absl::DataLossError(
        absl::StrCat("record is ", size, " bytes but its ", site.fields.size(), " fields end at byte ", pos));
  }
  return absl::OkStatus();
}

}  // namespace ringtail::reader
