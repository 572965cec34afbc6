#include "ringtail/reader/ingest/frame_decoder.hpp"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/ingest/record_decoder.hpp"

namespace ringtail::reader {
namespace {

void append_hex(std::string& out, uint64_t value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kHex[(value >> shift) & 0xF]);
}

}  // namespace

absl::Status decode_frame(const std::byte* record, uint32_t size, uint32_t max_string_bytes, DecodedFrame& out) {
  if (size < sizeof(shm::FrameHeader)) {
    return absl::DataLossError(absl::StrCat("frame record of ", size, " bytes is shorter than its header"));
  }
  shm::FrameHeader header;
  std::memcpy(&header, record, sizeof(header));
  out.push = header.header.callsite_id == shm::kFramePushId;
  out.resent = (header.flags & shm::kFrameResent) != 0;
  if ((header.flags & ~shm::kFrameResent) != 0) {
    return absl::DataLossError(absl::StrCat("frame flags 0x", absl::Hex(header.flags), " has unknown bits"));
  }
  if (header.kind != static_cast<uint8_t>(shm::FrameKind::kContext) &&
      header.kind != static_cast<uint8_t>(shm::FrameKind::kSpan)) {
    return absl::DataLossError(absl::StrCat("frame kind ", header.kind, " is unknown"));
  }
  if (header.depth >= shm::kMaxFrameDepth) {
    return absl::DataLossError(absl::StrCat("frame depth ", header.depth, " is not below ", shm::kMaxFrameDepth));
  }
  if (header.field_count > shm::kMaxFields) {
    return absl::DataLossError(absl::StrCat("frame has ", header.field_count, " fields, more than ", shm::kMaxFields));
  }
  ContextFrame& frame = out.frame;
  frame.depth = header.depth;
  frame.kind = static_cast<shm::FrameKind>(header.kind);
  frame.timestamp_raw = header.header.timestamp;
  frame.span_name.clear();
  frame.trace_id.clear();
  frame.span_id.clear();
  frame.parent_span_id.clear();
  frame.trace_flags = 0;
  uint64_t pos = sizeof(header);

  if (out.push && frame.kind == shm::FrameKind::kSpan) {
    if (size - pos < sizeof(shm::SpanIds)) {
      return absl::DataLossError(absl::StrCat("span frame of ", size, " bytes has no room for its ids"));
    }
    shm::SpanIds ids;
    std::memcpy(&ids, record + pos, sizeof(ids));
    pos += sizeof(ids);
    append_hex(frame.trace_id, ids.trace_id_high);
    append_hex(frame.trace_id, ids.trace_id_low);
    append_hex(frame.span_id, ids.span_id);
    if (ids.parent_span_id != 0) append_hex(frame.parent_span_id, ids.parent_span_id);
    frame.trace_flags = ids.trace_flags;
    StringValue name;
    if (absl::Status s = decode_string(record, size, pos, max_string_bytes, name); !s.ok()) {
      return absl::DataLossError(absl::StrCat("span name: ", s.message()));
    }
    frame.span_name = std::move(name.bytes);
  }

  frame.fields.resize(header.field_count);
  for (uint32_t i = 0; i < header.field_count; ++i) {
    ContextField& field = frame.fields[i];
    if (size - pos < sizeof(shm::InlineFieldHeader)) {
      return absl::DataLossError(absl::StrCat("frame field ", i, " starts past the end of the ", size, "-byte record"));
    }
    shm::InlineFieldHeader field_header;
    std::memcpy(&field_header, record + pos, sizeof(field_header));
    pos += sizeof(field_header);
    if (field_header.type < static_cast<uint8_t>(shm::FieldType::kBool) || field_header.type > shm::kMaxFieldType) {
      return absl::DataLossError(absl::StrCat("frame field ", i, " has unknown type code ", field_header.type));
    }
    if (field_header.reserved0 != 0 || field_header.reserved1 != 0) {
      return absl::DataLossError(absl::StrCat("frame field ", i, " has nonzero reserved bytes"));
    }
    if (field_header.key_bytes > shm::kMaxInlineKeyBytes) {
      return absl::DataLossError(absl::StrCat("frame field ", i, " key of ", field_header.key_bytes,
                                              " bytes is longer than ", shm::kMaxInlineKeyBytes));
    }
    const uint64_t padded = (uint64_t{field_header.key_bytes} + 7) & ~uint64_t{7};
    if (padded > size - pos) {
      return absl::DataLossError(absl::StrCat("frame field ", i, " key runs past the end of the record"));
    }
    for (uint64_t b = pos + field_header.key_bytes; b < pos + padded; ++b) {
      if (record[b] != std::byte{0}) {
        return absl::DataLossError(absl::StrCat("frame field ", i, " key padding byte ", b, " is not zero"));
      }
    }
    field.name.assign(reinterpret_cast<const char*>(record + pos), field_header.key_bytes);
    pos += padded;
    field.type = static_cast<shm::FieldType>(field_header.type);
    if (absl::Status s = decode_value(record, size, pos, field.type, max_string_bytes, field.value); !s.ok()) {
      // By its index only: the key's bytes come from the record itself, and
      // in a corrupt one they may be any bytes of a value.
      return absl::DataLossError(absl::StrCat("frame field ", i, ": ", s.message()));
    }
  }
  if (pos != size) {
    return absl::DataLossError(absl::StrCat("frame record is ", size, " bytes but its contents end at byte ", pos));
  }
  return absl::OkStatus();
}

}  // namespace ringtail::reader
