#include "ringtail/reader/ingest/callsite_table.hpp"

#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

// Reads the length-prefixed strings of an entry's text, never past `end`.
class TextParser {
 public:
  TextParser(const uint8_t* text, size_t end) : text_(text), end_(end) {}

  // False (with a reason) if the next string does not fit.
  bool next(std::string& out, const char* what, std::string& reason) {
    if (end_ - pos_ < 2) {
      reason = absl::StrCat("the length of the ", what, " lies past text_bytes ", end_);
      return false;
    }
    uint16_t length = 0;
    std::memcpy(&length, text_ + pos_, sizeof(length));
    pos_ += 2;
    if (length > end_ - pos_) {
      reason = absl::StrCat("the ", what, " (", length, " bytes at ", pos_, ") runs past text_bytes ", end_);
      return false;
    }
    out.assign(reinterpret_cast<const char*>(text_ + pos_), length);
    pos_ += length;
    return true;
  }

 private:
  const uint8_t* text_;
  size_t end_;
  size_t pos_ = 0;
};

}  // namespace

CallSiteInfo decode_callsite_entry(const shm::CallSiteEntry& e, uint32_t index) {
  CallSiteInfo info;
  info.id = index;
  auto invalid = [&](const std::string& reason) {
    info.invalid_reason = absl::StrCat("call-site entry ", index, ": ", reason);
    info.valid = false;
    info.message.clear();
    info.file.clear();
    info.function.clear();
    info.fields.clear();
    return info;
  };
  if (e.id != index) return invalid(absl::StrCat("holds id ", e.id));
  if (e.level > static_cast<uint8_t>(shm::Level::kOff)) return invalid(absl::StrCat("bad level ", e.level));
  if (e.field_count > shm::kMaxFields) {
    return invalid(absl::StrCat(e.field_count, " fields, more than ", shm::kMaxFields));
  }
  if (e.text_bytes > sizeof(e.text)) {
    return invalid(absl::StrCat("text_bytes ", e.text_bytes, " exceeds the ", sizeof(e.text), "-byte text area"));
  }
  info.level = static_cast<shm::Level>(e.level);
  info.line = e.line;
  info.fields.resize(e.field_count);
  for (uint32_t i = 0; i < e.field_count; ++i) {
    const uint8_t type = e.field_types[i];
    if (type < static_cast<uint8_t>(shm::FieldType::kBool) || type > shm::kMaxFieldType) {
      return invalid(absl::StrCat("field ", i, " has unknown type code ", type));
    }
    info.fields[i].type = static_cast<shm::FieldType>(type);
  }
  TextParser text(e.text, e.text_bytes);
  std::string reason;
  if (!text.next(info.message, "message", reason) || !text.next(info.file, "file name", reason) ||
      !text.next(info.function, "function name", reason)) {
    return invalid(reason);
  }
  for (uint32_t i = 0; i < e.field_count; ++i) {
    if (!text.next(info.fields[i].name, "field name", reason)) return invalid(absl::StrCat(reason, " (field ", i, ")"));
  }
  info.valid = true;
  return info;
}

CallSiteTable::CallSiteTable(const SegmentView& view)
    : base_(view.data()), segment_name_(view.name()), geometry_(view.geometry()), capacity_(view.callsite_capacity()) {}

absl::Status CallSiteTable::refresh() {
  const auto* header = reinterpret_cast<const shm::SegmentHeader*>(base_);
  // acquire: entries [0, count) are complete.
  const uint32_t count_untrusted = header->callsite_count.load(std::memory_order_acquire);
  const uint32_t count = count_untrusted < capacity_ ? count_untrusted : capacity_;
  shm::CallSiteEntry copy;
  for (uint32_t id = size(); id < count; ++id) {
    std::memcpy(&copy, base_ + geometry_.callsite_offset(id), sizeof(copy));
    entries_.push_back(decode_callsite_entry(copy, id));
    if (!entries_.back().valid) ++invalid_count_;
  }
  if (count_untrusted > capacity_) {
    return absl::DataLossError(absl::StrCat("segment /dev/shm/", segment_name_, ": call-site count ", count_untrusted,
                                            " exceeds the table's capacity ", capacity_));
  }
  return absl::OkStatus();
}

}  // namespace ringtail::reader
