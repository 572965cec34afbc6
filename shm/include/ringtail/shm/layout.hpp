// ringtail shared-memory ABI, version 2.
//
// One POSIX shared-memory segment per producer process. It is written by the
// producer and read (and, in a few documented words, written) by a reader in
// another process, possibly after the producer died. Everything here is
// therefore an ABI: explicitly sized types only, offsets never pointers, every
// cross-process word a lock-free std::atomic. docs/ARCHITECTURE.md documents
// the same layout byte by byte; keep the two in step and bump kAbiVersion on
// any incompatible change.
//
//   offset 0                 SegmentHeader (4 KiB)
//   callsite_table_offset    CallSiteEntry[callsite_capacity]  (1 KiB each)
//   directory_offset         RingSlot[ring_slot_count]         (256 B each)
//   rings_offset             ring data, ring_slot_count x ring_capacity bytes
//
// The file is created sparse at its full size; the header, table and
// directory are reserved (posix_fallocate) at creation and a ring's data when
// a thread first claims its slot, so /dev/shm use follows the thread count.
//
// Who writes what:
//   producer: everything, except the reader-owned words below.
//   reader:   SegmentHeader::control_min_level, SegmentHeader::reader_lease
//             (and the lease holder's reader_stalled_since_ns and
//             reader_stall_errno), RingSlot::read_pos; and, to change sampling live, the
//             SegmentHeader::sample_rules text (a seqlock) and
//             CallSiteEntry::sample_keep (which the producer also writes).
// Neither side's memory safety may depend on a value the other side wrote:
// the producer masks every position it computes from read_pos, and the reader
// treats the whole segment as untrusted input.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ringtail::shm {

// "RINGTAIL" read as a little-endian u64.
inline constexpr uint64_t kMagic = 0x4C494154474E4952ULL;
inline constexpr uint32_t kAbiVersion = 3;
// The oldest version a reader of this one still reads. Version 2 only added
// to version 1 (field type kError, frame records, sampling words), so a
// version 1 segment is a version 2 segment that never uses them.
inline constexpr uint32_t kMinAbiVersion = 1;
// Version 3 adds flight-recorder rings (SegmentHeader::ring_mode) and nothing
// else, and only a flight-mode segment is written as version 3: a normal one
// is still version 2, which older readers read, while they refuse a flight
// one, whose rings they would misread (its writer does not wait for them).
inline constexpr uint32_t kNormalAbiVersion = 2;
// Written in the producer's byte order; a reader of the other order sees 0x04030201.
inline constexpr uint32_t kEndianTag = 0x01020304U;

inline constexpr uint32_t kHeaderBytes = 4096;
inline constexpr uint32_t kCallSiteEntryBytes = 1024;
inline constexpr uint32_t kRingSlotBytes = 256;
inline constexpr uint32_t kPageBytes = 4096;

inline constexpr uint32_t kMaxFields = 32;
inline constexpr uint32_t kNameBytes = 64;        // service, program, hostname
inline constexpr uint32_t kThreadNameBytes = 16;  // Linux comm is at most 15 + NUL
inline constexpr uint32_t kSampleRulesBytes = 1016;

// The reader lease word for a reader process; see SegmentHeader::reader_lease.
constexpr uint64_t make_reader_lease(uint32_t pid, uint64_t start_ticks) {
  return (uint64_t{pid} << 32) | (start_ticks & 0xFFFFFFFFULL);
}

// Geometry bounds a producer may choose and a reader accepts.
inline constexpr uint64_t kMinRingCapacity = 4096;
// max_record_bytes (ring_capacity / 2) of the smallest ring: a record known
// at compile time to be no larger fits every ring.
inline constexpr uint32_t kMinMaxRecordBytes = kMinRingCapacity / 2;
inline constexpr uint64_t kMaxRingCapacity = uint64_t{1} << 30;
inline constexpr uint32_t kMaxRingSlots = 4096;
inline constexpr uint32_t kMinCallSites = 16;
inline constexpr uint32_t kMaxCallSites = 65536;

// Flight-recorder rings (v3, SegmentHeader::ring_mode == kFlight): the ring is
// cut into ring_chunk_count chunks of equal size; no record straddles a chunk
// boundary, every chunk starts with a kChunkStartId record, and the writer
// overwrites the oldest chunk instead of waiting for read_pos.
enum class RingMode : uint32_t {
  kNormal = 0,  // the writer never passes read_pos: a full ring drops new events
  kFlight = 1,  // the writer overwrites the oldest chunk: a ring keeps the last events
};
// A chunk holds its start record and a record of max_record_bytes, which is
// at least kMinMaxRecordBytes: so at least 4 KiB, and a flight ring at least two.
inline constexpr uint64_t kMinFlightChunkBytes = 4096;
inline constexpr uint32_t kMinFlightChunks = 2;
inline constexpr uint32_t kMaxFlightChunks = 64;  // a reader accepts up to this many
inline constexpr uint32_t kFlightChunks = 8;      // a producer cuts a large enough ring into this many
// SegmentHeader::flags
inline constexpr uint32_t kFlagRealtimeTimestamps = 1U << 0;  // no usable TSC: ts are CLOCK_REALTIME ns

enum class SegmentState : uint32_t {
  kInitializing = 0,  // header not complete yet: a reader must not trust it
  kRunning = 1,
  kFinished = 2,  // ringtail::shutdown() ran: no new events will be written
};

enum class SlotState : uint32_t {
  kFree = 0,     // never claimed; its ring data may not even be allocated
  kActive = 1,   // owned by a live thread of the producer
  kRetired = 2,  // its thread exited; may still hold undrained records, may be claimed again
};

// Levels as stored in call-site entries and the control word.
enum class Level : uint8_t { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4, kCritical = 5, kOff = 6 };

// Field type codes, as stored in CallSiteEntry::field_types.
// Every scalar occupies 8 bytes in a record (integers sign- or zero-extended,
// float as its 4 bytes then 4 zero bytes). A string is a StringHeader followed
// by its bytes, padded with zeros to a multiple of 8.
enum class FieldType : uint8_t {
  kBool = 1,
  kI8 = 2,
  kI16 = 3,
  kI32 = 4,
  kI64 = 5,
  kU8 = 6,
  kU16 = 7,
  kU32 = 8,
  kU64 = 9,
  kF32 = 10,
  kF64 = 11,
  kString = 12,
  kDurationNs = 13,  // std::chrono duration, as signed 64-bit nanoseconds
  kError = 14,       // an error: ErrorHeader, then strings type, message and stack (v2)
  kNull = 15,        // no value (JSON null): a zero word
};
inline constexpr uint8_t kMaxFieldType = 15;

// ---------------------------------------------------------------------------
// Segment header: 4 KiB at offset 0.
// Identity and geometry are written once, before `state` is released as
// kRunning; the live words that follow each sit on their own cache line,
// grouped by the side that writes them.
struct alignas(64) SegmentHeader {
  // Identity (offset 0).
  uint64_t magic;
  uint32_t abi_version;
  uint32_t endian_tag;
  uint32_t header_bytes;
  uint32_t flags;
  uint64_t segment_bytes;
  uint64_t created_realtime_ns;
  uint32_t pid;
  uint32_t uid;
  uint64_t process_start_ticks;  // field 22 of /proc/<pid>/stat: tells a reused pid apart
  // Clock calibration (offset 56): realtime_ns = anchor_realtime_ns + (ts - anchor_tsc) * 1e9 / tsc_hz.
  // With kFlagRealtimeTimestamps, tsc_hz is 0 and timestamps are CLOCK_REALTIME ns.
  uint64_t tsc_hz;
  uint64_t anchor_tsc;
  uint64_t anchor_realtime_ns;
  // Geometry (offset 80).
  uint64_t callsite_table_offset;
  uint32_t callsite_capacity;
  uint32_t callsite_entry_bytes;
  uint64_t directory_offset;
  uint32_t ring_slot_count;
  uint32_t ring_slot_bytes;
  uint64_t rings_offset;
  uint64_t ring_capacity;  // bytes of data per ring, a power of two
  uint32_t max_string_bytes;
  uint32_t max_record_bytes;
  // Names (offset 136): UTF-8, NUL-padded, not necessarily NUL-terminated.
  char service[kNameBytes];
  char program[kNameBytes];
  char hostname[kNameBytes];
  // Ring mode (offset 328, v3): a RingMode, and for kFlight the chunks each
  // ring is cut into (a power of two, kMinFlightChunks to kMaxFlightChunks,
  // chunks of at least kMinFlightChunkBytes); 0 and 0 in a normal segment
  // (reserved zero bytes before version 3).
  uint32_t ring_mode;
  uint32_t ring_chunk_count;
  uint8_t reserved0[48];

  // Producer-written live words (offset 384).
  alignas(64) std::atomic<uint32_t> state;         // SegmentState; release-stored
  std::atomic<uint32_t> callsite_count;            // entries [0, count) are complete; release-stored
  std::atomic<uint64_t> lost_no_ring;              // events dropped: no ring could be claimed
  std::atomic<uint64_t> lost_callsite_table_full;  // events dropped: call-site table full
  std::atomic<uint64_t> threads_started;           // rings claimed, over the segment's life
  // Audit events (RINGTAIL_AUDIT) lost before reaching a ring: no ring, the
  // call-site table full (also in lost_no_ring / lost_callsite_table_full).
  std::atomic<uint64_t> audit_lost_outside_rings;
  uint8_t reserved1[24];

  // Reader-written control (offset 448): the producer reads it on every emit.
  alignas(64) std::atomic<uint32_t> control_min_level;  // Level; events below it are not written
  uint32_t reserved2[15];

  // Reader lease (offset 512): the reader that consumes this segment, as
  // (pid << 32) | (process start ticks & 0xFFFFFFFF); 0 when none. Taken and
  // released with a compare-and-swap; stale once that process is gone.
  alignas(64) std::atomic<uint64_t> reader_lease;
  // The lease holder's output state (offset 520), for `ringtail ls` only:
  // CLOCK_REALTIME ns since its output began failing (disk full...), 0 while
  // it writes; the errno of that failure when known, else 0. Written by the
  // lease holder (relaxed), cleared when it resumes or lets the lease go.
  // Added within version 2 in reserved bytes (zero): older readers ignore
  // them. Nothing depends on them; any writer of the segment can set them.
  std::atomic<uint64_t> reader_stalled_since_ns;
  std::atomic<uint32_t> reader_stall_errno;
  uint8_t reserved3[44];

  // Sampling rules (offset 576, v2): the text of RINGTAIL_SAMPLE
  // ("debug=0.1,msg:tool call=0.5,site:agent.cpp:42=0"), written by the
  // producer at init and replaced by a reader (`ringtail sample`). The
  // producer applies it to each call site it registers; rules for sites
  // already registered are their CallSiteEntry::sample_keep words. A
  // seqlock: the writer makes sample_rules_version odd, writes the text and
  // its length, then makes the version even again (release); a reader of
  // the text retries while the version is odd or changed. Untrusted by both
  // sides: parsed with bounds, never trusted to be well formed.
  alignas(64) std::atomic<uint32_t> sample_rules_version;
  std::atomic<uint32_t> sample_rules_bytes;  // <= kSampleRulesBytes
  char sample_rules[kSampleRulesBytes];

  uint8_t reserved_tail[kHeaderBytes - 576 - 8 - kSampleRulesBytes];
};

// ---------------------------------------------------------------------------
// Call-site table entry: 1 KiB, at callsite_table_offset + id * 1024.
// Written once by the producer under its process-local lock, then published
// by the release store of SegmentHeader::callsite_count.
//
// text[] holds 3 + field_count strings back to back, each a little-endian u16
// length followed by that many bytes (no NUL): message, file, function, then
// one name per field in record order. text_bytes is the total used.
struct CallSiteEntry {
  uint32_t id;  // equals its index in the table
  uint8_t level;
  uint8_t field_count;
  uint16_t text_bytes;
  uint32_t line;
  // Sampling (v2): 0 keeps every event of the site; k > 0 keeps an event
  // when its 32-bit draw is below k - 1 (so 1 keeps none). Written by the
  // producer when it registers the site and by a reader changing the rules
  // live; read by the producer on every event of the site. Shared between
  // processes, so only ever accessed through std::atomic_ref<uint32_t> (a
  // plain member keeps the entry trivially copyable for the reader's copies).
  alignas(4) uint32_t sample_keep;
  uint8_t field_types[kMaxFields];  // FieldType
  uint8_t text[kCallSiteEntryBytes - 48];
};

// ---------------------------------------------------------------------------
// Ring directory slot: 256 bytes, at directory_offset + index * 256.
// Line 0 is cold (written when a thread claims or retires the slot), line 1
// is the producer's per-event line, line 2 is the reader's. Lines 1 and 2 sit
// in different 128-byte pairs so adjacent-line prefetch does not couple them.
struct alignas(64) RingSlot {
  // Line 0: ownership (offset 0).
  std::atomic<uint32_t> state;  // SlotState; release-stored after the fields below
  std::atomic<uint32_t> os_tid;
  std::atomic<uint64_t> generation;      // times this slot was claimed
  uint64_t data_offset;                  // constant: rings_offset + index * ring_capacity
  uint64_t capacity;                     // constant: ring_capacity
  std::atomic<uint64_t> thread_name[2];  // 16 bytes of the owner's name, NUL-padded
  uint64_t reserved0[2];

  // Line 1: producer, stored on every event (offset 64).
  // Positions are byte counts since the ring was created, never wrapped;
  // the data offset of a position is position & (capacity - 1).
  alignas(64) std::atomic<uint64_t> write_pos;  // release: publishes the bytes before it
  std::atomic<uint64_t> committed;              // events written
  std::atomic<uint64_t> dropped_full;           // events dropped: ring full
  std::atomic<uint64_t> dropped_too_big;        // events dropped: record larger than max_record_bytes
  // Audit events (RINGTAIL_AUDIT) dropped after waiting their bound for room;
  // also counted in dropped_full (they spend a seq number like any drop).
  std::atomic<uint64_t> audit_lost;
  // Events a sampling rule left out (v2). Not drops: they take no seq.
  std::atomic<uint64_t> sampled_out;
  uint64_t reserved1[2];

  // Line 2: reader (offset 128).
  alignas(64) std::atomic<uint64_t> read_pos;  // release: the reader is done with the bytes before it
  uint64_t reserved2[7];

  uint64_t reserved3[8];  // line 3 (offset 192)
};

// ---------------------------------------------------------------------------
// Records. Every record starts 8-byte aligned with an 8-byte prefix
// {size, callsite_id}; `size` covers the whole record and is a multiple of 8.
// Event records (callsite_id < callsite_capacity) continue with seq and
// timestamp, then the fields. Ids at or above kControlIdBase are control
// records; a reader skips a control record it does not know by its size.
//
// seq is per ring and advances for every event the ring's writer handled,
// committed or dropped, so a gap in seq is exactly the events dropped there.
struct RecordHeader {
  uint32_t size;
  uint32_t callsite_id;
  uint64_t seq;
  uint64_t timestamp;  // TSC ticks, or CLOCK_REALTIME ns with kFlagRealtimeTimestamps
};

inline constexpr uint32_t kRecordPrefixBytes = 8;
inline constexpr uint32_t kControlIdBase = 0xFFFFFF00U;
// Fills the tail of the ring so that no record straddles its end. Only the
// 8-byte prefix is meaningful; size runs to the end of the ring.
inline constexpr uint32_t kPaddingId = 0xFFFFFFFFU;
// Starts the records of a new owner of the ring: a ThreadStartRecord. Its seq
// is the seq the owner's first event will carry.
inline constexpr uint32_t kThreadStartId = 0xFFFFFFFEU;
// Starts every chunk of a flight-mode ring (v3): a ThreadStartRecord (same
// layout) naming the ring's current owner, whose seq is the seq its next
// event will carry and whose timestamp is 0, so that a reader can decode the
// ring from any chunk start on. Not a new owner: it takes no seq.
inline constexpr uint32_t kChunkStartId = 0xFFFFFFFBU;

struct ThreadStartRecord {
  RecordHeader header;
  uint32_t os_tid;
  uint32_t reserved;
  char thread_name[kThreadNameBytes];
};

struct StringHeader {
  uint32_t stored_bytes;    // bytes that follow
  uint32_t original_bytes;  // > stored_bytes when the string was cut
};

// A kError value (v2): this header, then three strings (StringHeader and
// padded bytes each, cut at max_string_bytes like any string): the error's
// type, its message and a captured stack ("" when none; frames separated by
// '\n').
struct ErrorHeader {
  uint32_t flags;  // kErrorHasCode, kErrorTypeMangled
  uint32_t reserved;
  int64_t code;  // meaningful with kErrorHasCode
};
inline constexpr uint32_t kErrorHasCode = 1U << 0;
inline constexpr uint32_t kErrorTypeMangled = 1U << 1;  // type is a C++ mangled name (typeid); demangle it

// ---------------------------------------------------------------------------
// Frame records (v2): a thread's context and spans. A thread has a stack of
// frames; the reader attaches the fields of the thread's current frames to
// every event it decodes from that thread's ring, and the trace_id/span_id
// of its innermost span. Frames are not events: they take no seq and are not
// counted in `committed`. A frame record the producer could not write (full
// ring) is counted as a dropped event (it spends a seq, so the reader sees a
// gap) and the producer re-sends the whole stack before the thread's next
// event: a kFramePopId record with kFrameResent and depth 0, then every
// current frame again with kFrameResent.
inline constexpr uint32_t kFramePushId = 0xFFFFFFFDU;
inline constexpr uint32_t kFramePopId = 0xFFFFFFFCU;

enum class FrameKind : uint8_t {
  kContext = 1,  // ScopedContext: fields only
  kSpan = 2,     // Span: SpanIds and a name, then fields (the span's attributes)
};

// FrameHeader::flags
inline constexpr uint8_t kFrameResent = 1U << 0;  // a copy after a loss: no span.start / span.end line

inline constexpr uint32_t kMaxFrameDepth = 32;
// Bytes of push records one thread may have bound at once (all its frames
// together): a producer binds nothing beyond it, a reader keeps nothing beyond it.
inline constexpr uint32_t kMaxFrameStackBytes = 8192;
inline constexpr uint32_t kMaxInlineKeyBytes = 64;

struct FrameHeader {
  RecordHeader header;  // seq: the seq of the thread's next event (none spent); timestamp: when
  // Push: this frame's index in the stack (the reader first drops frames at
  // or above it). Pop: the frame that ends; the stack keeps `depth` frames.
  uint16_t depth;
  uint8_t kind;          // FrameKind (a pop names the kind of the frame it ends)
  uint8_t flags;         // kFrameResent
  uint32_t field_count;  // inline fields at the end of the record, at most kMaxFields
};

// Follows the FrameHeader of a kSpan push, before the span's name (a string
// as in an event record) and its fields.
struct SpanIds {
  uint64_t trace_id_high;  // the 128-bit W3C trace id, big-endian halves
  uint64_t trace_id_low;
  uint64_t span_id;         // never 0
  uint64_t parent_span_id;  // 0: a root span
  uint8_t trace_flags;      // W3C trace-flags (bit 0: sampled)
  uint8_t reserved[7];
};

// A frame's fields carry their names: frames are not in the call-site
// table. Each is this header, the key (key_bytes, at most kMaxInlineKeyBytes,
// zero-padded to 8), then the value encoded as in an event record. A span
// pop's fields are its outcome ("status" and, when it failed, "error").
struct InlineFieldHeader {
  uint8_t type;  // FieldType
  uint8_t reserved0;
  uint16_t key_bytes;
  uint32_t reserved1;
};

// ---------------------------------------------------------------------------
// Layout checks: this is what docs/ARCHITECTURE.md promises.
static_assert(sizeof(SegmentHeader) == kHeaderBytes);
static_assert(offsetof(SegmentHeader, magic) == 0);
static_assert(offsetof(SegmentHeader, abi_version) == 8);
static_assert(offsetof(SegmentHeader, endian_tag) == 12);
static_assert(offsetof(SegmentHeader, header_bytes) == 16);
static_assert(offsetof(SegmentHeader, flags) == 20);
static_assert(offsetof(SegmentHeader, segment_bytes) == 24);
static_assert(offsetof(SegmentHeader, created_realtime_ns) == 32);
static_assert(offsetof(SegmentHeader, pid) == 40);
static_assert(offsetof(SegmentHeader, uid) == 44);
static_assert(offsetof(SegmentHeader, process_start_ticks) == 48);
static_assert(offsetof(SegmentHeader, tsc_hz) == 56);
static_assert(offsetof(SegmentHeader, anchor_tsc) == 64);
static_assert(offsetof(SegmentHeader, anchor_realtime_ns) == 72);
static_assert(offsetof(SegmentHeader, callsite_table_offset) == 80);
static_assert(offsetof(SegmentHeader, callsite_capacity) == 88);
static_assert(offsetof(SegmentHeader, callsite_entry_bytes) == 92);
static_assert(offsetof(SegmentHeader, directory_offset) == 96);
static_assert(offsetof(SegmentHeader, ring_slot_count) == 104);
static_assert(offsetof(SegmentHeader, ring_slot_bytes) == 108);
static_assert(offsetof(SegmentHeader, rings_offset) == 112);
static_assert(offsetof(SegmentHeader, ring_capacity) == 120);
static_assert(offsetof(SegmentHeader, max_string_bytes) == 128);
static_assert(offsetof(SegmentHeader, max_record_bytes) == 132);
static_assert(offsetof(SegmentHeader, service) == 136);
static_assert(offsetof(SegmentHeader, program) == 200);
static_assert(offsetof(SegmentHeader, hostname) == 264);
static_assert(offsetof(SegmentHeader, ring_mode) == 328);
static_assert(offsetof(SegmentHeader, ring_chunk_count) == 332);
static_assert(offsetof(SegmentHeader, state) == 384);
static_assert(offsetof(SegmentHeader, callsite_count) == 388);
static_assert(offsetof(SegmentHeader, lost_no_ring) == 392);
static_assert(offsetof(SegmentHeader, lost_callsite_table_full) == 400);
static_assert(offsetof(SegmentHeader, threads_started) == 408);
static_assert(offsetof(SegmentHeader, audit_lost_outside_rings) == 416);
static_assert(offsetof(SegmentHeader, control_min_level) == 448);
static_assert(offsetof(SegmentHeader, reader_lease) == 512);
static_assert(offsetof(SegmentHeader, reader_stalled_since_ns) == 520);
static_assert(offsetof(SegmentHeader, reader_stall_errno) == 528);
static_assert(offsetof(SegmentHeader, sample_rules_version) == 576);
static_assert(offsetof(SegmentHeader, sample_rules_bytes) == 580);
static_assert(offsetof(SegmentHeader, sample_rules) == 584);

static_assert(sizeof(CallSiteEntry) == kCallSiteEntryBytes);
static_assert(offsetof(CallSiteEntry, level) == 4);
static_assert(offsetof(CallSiteEntry, field_count) == 5);
static_assert(offsetof(CallSiteEntry, text_bytes) == 6);
static_assert(offsetof(CallSiteEntry, line) == 8);
static_assert(offsetof(CallSiteEntry, sample_keep) == 12);
static_assert(offsetof(CallSiteEntry, field_types) == 16);
static_assert(offsetof(CallSiteEntry, text) == 48);

static_assert(sizeof(RingSlot) == kRingSlotBytes);
static_assert(offsetof(RingSlot, os_tid) == 4);
static_assert(offsetof(RingSlot, generation) == 8);
static_assert(offsetof(RingSlot, data_offset) == 16);
static_assert(offsetof(RingSlot, capacity) == 24);
static_assert(offsetof(RingSlot, thread_name) == 32);
static_assert(offsetof(RingSlot, write_pos) == 64);
static_assert(offsetof(RingSlot, committed) == 72);
static_assert(offsetof(RingSlot, dropped_full) == 80);
static_assert(offsetof(RingSlot, dropped_too_big) == 88);
static_assert(offsetof(RingSlot, audit_lost) == 96);
static_assert(offsetof(RingSlot, sampled_out) == 104);
static_assert(offsetof(RingSlot, read_pos) == 128);

static_assert(sizeof(RecordHeader) == 24);
static_assert(offsetof(RecordHeader, callsite_id) == 4);
static_assert(offsetof(RecordHeader, seq) == 8);
static_assert(offsetof(RecordHeader, timestamp) == 16);
static_assert(sizeof(ThreadStartRecord) == 48);
static_assert(sizeof(StringHeader) == 8);
static_assert(sizeof(ErrorHeader) == 16);
static_assert(sizeof(FrameHeader) == 32);
static_assert(offsetof(FrameHeader, depth) == 24);
static_assert(offsetof(FrameHeader, kind) == 26);
static_assert(offsetof(FrameHeader, flags) == 27);
static_assert(offsetof(FrameHeader, field_count) == 28);
static_assert(sizeof(SpanIds) == 40);
static_assert(sizeof(InlineFieldHeader) == 8);

static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic_ref<uint32_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
// A lock-free atomic must be its plain value in memory for another process to read it.
static_assert(sizeof(std::atomic<uint32_t>) == 4 && sizeof(std::atomic<uint64_t>) == 8);

}  // namespace ringtail::shm
