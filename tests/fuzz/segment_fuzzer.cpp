// libFuzzer target: a segment's bytes, read as hostile input by the whole
// ingest path. Each input becomes the contents of a POSIX shm object
// (/dev/shm/ringtail-fuzz.<pid>, outside the "ringtail." namespace so that no
// reader or test that lists /dev/shm sees it), which is then opened and
// validated by SegmentView and, if accepted, read like a reader would:
// header words, directory slots, the call-site table, every ring through a
// peeking and then a consuming RingCursor (bounded batches: no input may
// make a cursor loop), trailing drops, the reader lease, and JSON lines for
// every event and gap, which must be valid UTF-8 with no raw control bytes.
//
// Built and run by tests/fuzz/run_fuzzer.cmake with
// clang++ -fsanitize=fuzzer,address,undefined, seeded with real segments.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ringtail/reader/ingest/callsite_table.hpp"
#include "ringtail/reader/ingest/consumer_lease.hpp"
#include "ringtail/reader/ingest/decoded_event.hpp"
#include "ringtail/reader/ingest/ring_cursor.hpp"
#include "ringtail/reader/ingest/segment_directory.hpp"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/output/event_json.hpp"

namespace {

using namespace ringtail;

constexpr uint32_t kMaxSlots = 16;      // rings read per input
constexpr uint32_t kMaxBatches = 64;    // batches per cursor
constexpr uint64_t kBatchBytes = 4096;  // small batches: more batch boundaries
constexpr uint32_t kMaxCallSites = 64;  // entries touched through callsite_entry()

// The shm object every input is written to; created once, removed at exit.
class ShmObject {
 public:
  ShmObject() : name_("ringtail-fuzz." + std::to_string(::getpid())) {
    fd_ = ::shm_open(name_.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd_ < 0) std::abort();
    std::atexit([] { ::shm_unlink(instance().name_.c_str()); });
  }
  static ShmObject& instance() {
    static ShmObject object;
    return object;
  }
  void fill(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0 || ::ftruncate(fd_, static_cast<off_t>(size)) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
};

// Every line must be UTF-8 JSON text: valid UTF-8, no raw byte below 0x20
// except the final '\n'.
void check_lines(const std::string& out) {
  size_t i = 0;
  while (i < out.size()) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c == '\n') {
      ++i;
      continue;
    }
    if (c < 0x20) __builtin_trap();
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      __builtin_trap();
    }
    if (n > out.size() - i - 1) __builtin_trap();  // cut short
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(out[i + k]);
      if ((d & 0xC0) != 0x80) __builtin_trap();
      cp = (cp << 6) | (d & 0x3F);
    }
    const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) __builtin_trap();
    i += n + 1;
  }
  if (!out.empty() && out.back() != '\n') __builtin_trap();
}

// The shapes cover the lines one after the other, and every span lies in its line.
void check_shapes(const reader::ShapedLines& lines) {
  uint64_t offset = 0;
  for (const reader::LineShape& shape : lines.lines) {
    if (shape.offset != offset || shape.size == 0 || lines.text[shape.offset + shape.size - 1] != '\n')
      __builtin_trap();
    offset += shape.size;
    if (shape.message_offset + uint64_t{shape.message_size} > shape.size) __builtin_trap();
    if (shape.first_field + uint64_t{shape.field_count} > lines.fields.size()) __builtin_trap();
    for (uint32_t i = 0; i < shape.field_count; ++i) {
      const reader::FieldSpan& field = lines.fields[shape.first_field + i];
      if (field.key_offset + uint64_t{field.key_size} > shape.size) __builtin_trap();
      if (field.value_offset + uint64_t{field.value_size} > shape.size) __builtin_trap();
    }
  }
  if (offset != lines.text.size()) __builtin_trap();
}

class JsonSink : public reader::RecordSink {
 public:
  explicit JsonSink(const reader::SegmentView& view) : formatter_(view.identity()) {}
  ~JsonSink() override {
    check_lines(out_.text);
    check_shapes(out_);
  }

  void on_event(const reader::DecodedEvent& event) override {
    if (event.callsite == nullptr || !event.callsite->valid) __builtin_trap();  // the cursor's promise
    if (event.fields.size() != event.callsite->fields.size()) __builtin_trap();
    formatter_.append_event(out_, event);
    check_some();
  }
  void on_gap(const reader::DropGap& gap) override {
    if (gap.last_seq < gap.first_seq || gap.count != gap.last_seq - gap.first_seq + 1) __builtin_trap();
    formatter_.append_gap(out_, gap, 0);
    check_some();
  }

 private:
  void check_some() {
    if (out_.text.size() < 65536) return;
    check_lines(out_.text);
    check_shapes(out_);
    out_.clear();
  }

  reader::EventJsonFormatter formatter_;
  reader::ShapedLines out_;
};

void read_ring(const reader::SegmentView& view, reader::CallSiteTable& table, uint32_t slot,
               reader::RingCursorOptions::Mode mode) {
  reader::RingCursorOptions options;
  options.mode = mode;
  options.max_batch_bytes = kBatchBytes;
  absl::StatusOr<reader::RingCursor> cursor = reader::RingCursor::create(view, slot, options);
  if (!cursor.ok()) return;
  JsonSink sink(view);
  uint64_t last_position = cursor->position();
  for (uint32_t batch = 0; batch < kMaxBatches; ++batch) {
    reader::BatchStats stats;
    const absl::Status status = cursor->read_batch(table, sink, &stats);
    cursor->commit();
    if (!status.ok()) {
      // Poisoned: the same error from then on, and no more progress.
      if (cursor->read_batch(table, sink).ok() || !cursor->poisoned()) __builtin_trap();
      return;
    }
    if (cursor->position() < last_position && stats.peek_resyncs == 0) __builtin_trap();
    last_position = cursor->position();
    if (stats.caught_up) break;
  }
  (void)cursor->report_trailing_drops(sink);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ShmObject& shm = ShmObject::instance();
  shm.fill(data, size);
  absl::StatusOr<reader::SegmentView> view =
      reader::SegmentView::open(shm.name(), reader::SegmentView::Access::kReadWrite);
  if (!view.ok()) return 0;

  // Header and directory, as `ringtail ls` reads them.
  (void)view->state();
  (void)view->loss_counters();
  (void)view->callsite_count_untrusted();
  (void)view->control_min_level_untrusted();
  (void)reader::producer_state(*view);
  (void)reader::lease_holder(*view);
  const uint32_t slots = std::min(view->slot_count(), kMaxSlots);
  for (uint32_t i = 0; i < slots; ++i) {
    (void)view->slot_snapshot(i);
    (void)view->ring_data(i);
  }
  if (view->slot_snapshot(view->slot_count()).ok()) __builtin_trap();  // bounds-checked
  for (uint32_t id = 0; id < std::min(view->callsite_capacity(), kMaxCallSites); ++id) {
    (void)view->callsite_entry(id);
  }

  reader::CallSiteTable table(*view);
  (void)table.refresh();
  if (table.size() > table.capacity()) __builtin_trap();

  {
    absl::StatusOr<reader::ConsumerLease> lease = reader::ConsumerLease::acquire(*view);
    for (uint32_t i = 0; i < slots; ++i) read_ring(*view, table, i, reader::RingCursorOptions::Mode::kPeek);
    for (uint32_t i = 0; i < slots; ++i) read_ring(*view, table, i, reader::RingCursorOptions::Mode::kConsume);
  }
  (void)view->set_control_min_level(shm::Level::kDebug);
  return 0;
}
