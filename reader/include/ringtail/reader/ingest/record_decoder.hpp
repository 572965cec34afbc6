// Decodes the fields of one event record against its call site.
//
// Input is the reader's private copy of the record (never shared memory), so
// the bytes cannot change while they are checked and used. The record must
// match its call site exactly: every field present with its declared type and
// encoding (scalars 8 bytes, sign/zero-extended; float in the low 4 bytes with
// 4 zero bytes; a null a zero word; strings a StringHeader then the bytes
// zero-padded to 8 with stored <= original and stored <= max_string_bytes),
// and no bytes left over.
// Anything else is an error describing the first problem; `out` is then
// partly overwritten and must not be used.
//
// Threading: a pure function of its arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/decoded_event.hpp"

namespace ringtail::reader {

// Decodes one value of `type` at record[pos] (8-byte aligned, inside the
// record's `size` bytes) into `value`, with the checks above, and advances
// `pos` past it. The error says what is wrong (the caller names the field).
absl::Status decode_value(const std::byte* record, uint32_t size, uint64_t& pos, shm::FieldType type,
                          uint32_t max_string_bytes, FieldValue& value);
// One string (StringHeader, bytes, zero padding) at record[pos], likewise.
absl::Status decode_string(const std::byte* record, uint32_t size, uint64_t& pos, uint32_t max_string_bytes,
                           StringValue& out);

// Fills out.fields from `record` (the whole record, RecordHeader included,
// `size` bytes). `site` must be valid. Reuses out.fields' storage.
absl::Status decode_event_fields(const std::byte* record, uint32_t size, const CallSiteInfo& site,
                                 uint32_t max_string_bytes, DecodedEvent& out);

}  // namespace ringtail::reader
