// The producer half of the ring protocol: reserve, write, commit.
//
// One RingWriter per ring, used by exactly one thread (the ring's owner). The
// ring is a byte ring of power-of-two capacity in shared memory; the writer
// owns RingSlot::write_pos and the counters, the reader owns read_pos.
//
//   reserve(size)  -> where to write `size` bytes, or nullptr when full.
//                     Places a padding record first when the record would
//                     straddle the end of the ring.
//   commit(...)    -> one relaxed store of the committed count and one
//                     release store of write_pos: the record is published.
//
// The writer keeps the limit it may write up to (read_pos + capacity as last
// seen) and rereads read_pos only when a record would pass it, so while the
// ring has room it never touches the reader's cache line. It also keeps
// room_end, the lower of that limit and the end of the current lap of the
// ring: a record that ends at or before room_end needs no padding and no
// read of read_pos, so reserve() is one add and one compare until the ring
// wraps or looks full. Every offset it computes is masked, so no value the
// reader writes can make it write outside the ring. RingWriter is trivial and
// constant-initialisable so that it can live in initial-exec TLS with no
// guard or wrapper call.
//
// Flight mode (chunk_mask != 0, docs/ARCHITECTURE.md "Flight-recorder
// rings"): the ring is cut into chunks and the writer never reads read_pos.
// room_end is the end of write_pos's chunk, so reserve() keeps its one add
// and one compare and the slow path runs once per chunk: it pads the rest of
// the chunk, publishes write_pos at the next chunk's start, issues a release
// fence (a reader whose copy saw any byte written after it then sees
// write_pos at or past that chunk: the seqlock rule the reader relies on),
// and writes the chunk's start record before the record asked for. A reserve
// never fails for a record of at most max_record_bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ringtail/shm/layout.hpp"

namespace ringtail::shm {

struct RingWriter {
  std::byte* data = nullptr;  // ring data; nullptr while the thread has no ring
  RingSlot* slot = nullptr;
  uint64_t mask = 0;         // capacity - 1
  uint64_t write_pos = 0;    // mirrors slot->write_pos
  uint64_t room_end = 0;     // min(write_limit, end of write_pos's lap); 0 forces the slow path
  uint64_t write_limit = 0;  // read_pos (as last read) + capacity
  uint64_t committed = 0;    // mirrors slot->committed
  uint64_t dropped = 0;      // dropped_full + dropped_too_big, mirrored in the slot
  uint32_t max_record_bytes = 0;
  // Flight mode only (cold: read once per chunk).
  uint64_t chunk_mask = 0;  // chunk bytes - 1; 0: normal mode
  uint32_t owner_tid = 0;   // for the chunk start records
  char owner_name[kThreadNameBytes] = {};
  // Stored to when a chunk starts, if not null: the producer points it at its
  // thread's state so that the thread's frames are sent again in every chunk.
  uint8_t* chunk_hook = nullptr;
  uint8_t chunk_hook_value = 0;

  // Sequence number of the next event, committed or dropped.
  uint64_t next_seq() const noexcept { return committed + dropped; }

  // Where a reserved record goes, and what commit() will publish. Kept in
  // registers by the caller: the record's byte stores may alias anything, so
  // nothing commit() needs is reread from memory after them.
  struct Reservation {
    std::byte* at;  // nullptr: the ring lacks room
    uint64_t end;   // write_pos after the record
  };

  // Reservation::end from reserve_event() when a flight ring's chunk started
  // and its hook fired: nothing is reserved. The caller writes what the hook
  // asks for (the thread's frames) first, then reserves with reserve().
  static constexpr uint64_t kHookFired = 1;

  // Reserves a record of `size` bytes (a multiple of 8, at most
  // max_record_bytes) on an attached writer. `at` is nullptr when the ring
  // lacks room for it.
  [[gnu::always_inline]] Reservation reserve(uint32_t size) noexcept { return reserve_or_stop<false>(size); }
  // reserve() for an event: a chunk start whose hook fires stops it
  // ({nullptr, kHookFired}), so that the frames go before the event that
  // opened the chunk. The fast path is reserve()'s.
  [[gnu::always_inline]] Reservation reserve_event(uint32_t size) noexcept { return reserve_or_stop<true>(size); }

  template <bool kStopAtHook>
  [[gnu::always_inline]] Reservation reserve_or_stop(uint32_t size) noexcept {
    const uint64_t pos = write_pos;
    const uint64_t end = pos + size;
    if (end > room_end) [[unlikely]]
      return reserve_past_room_end(size, kStopAtHook);
    std::byte* const at = data + (pos & mask);
    if (at == nullptr) __builtin_unreachable();  // attached: data is a mapping, so the caller's test folds away
    return {at, end};
  }

  // reserve() for a record that passes room_end: it may need padding before
  // it (it would straddle the end of the ring) or a fresh read of read_pos.
  Reservation reserve_past_room_end(uint32_t size, bool stop_at_hook) noexcept {
    if (chunk_mask != 0) return reserve_in_chunk(size, stop_at_hook);
    uint64_t pos = write_pos;
    const uint64_t offset = pos & mask;
    const uint64_t tail = mask + 1 - offset;
    const uint64_t padding = size > tail ? tail : 0;  // a record never straddles the end
    const uint64_t end = pos + padding + size;
    if (end > write_limit) {
      // acquire: the reader has finished copying every byte before read_pos.
      write_limit = slot->read_pos.load(std::memory_order_acquire) + mask + 1;
    }
    // Relative to write_pos, which only a commit moves: a reservation that is
    // never committed (wait_for_room's, which only waits for room) leaves
    // room_end valid.
    const uint64_t lap_end = (pos | mask) + 1;
    room_end = write_limit < lap_end ? write_limit : lap_end;
    if (end > write_limit) return {nullptr, 0};
    if (padding != 0) {
      const uint32_t prefix[2] = {static_cast<uint32_t>(padding), kPaddingId};
      std::memcpy(data + offset, prefix, sizeof(prefix));
      pos += padding;
    }
    return {data + (pos & mask), end};
  }

  // Flight mode's slow path: the record does not fit before the end of
  // write_pos's chunk (or room_end is not set yet).
  Reservation reserve_in_chunk(uint32_t size, bool stop_at_hook) noexcept {
    const uint64_t chunk_bytes = chunk_mask + 1;
    if (uint64_t{size} + sizeof(ThreadStartRecord) > chunk_bytes) return {nullptr, 0};
    uint64_t pos = write_pos;
    const uint64_t chunk_end = (pos | chunk_mask) + 1;
    if ((pos & chunk_mask) != 0 && pos + size > chunk_end) {
      // A record never straddles a chunk: pad to the chunk's end and publish
      // the padding, so that write_pos reaches the next chunk before any byte of it is written.
      const uint32_t prefix[2] = {static_cast<uint32_t>(chunk_end - pos), kPaddingId};
      std::memcpy(data + (pos & mask), prefix, sizeof(prefix));
      pos = chunk_end;
      write_pos = pos;
      // release: publishes the padding.
      slot->write_pos.store(pos, std::memory_order_release);
    }
    // release fence: orders the store of write_pos (at or past the start of
    // the chunk written next) before every byte written from here on; a
    // reader whose copy saw one of them then sees that write_pos after its
    // acquire fence, and so knows what was overwritten.
    std::atomic_thread_fence(std::memory_order_release);
    room_end = (pos | chunk_mask) + 1;  // the chunk's end, also after its start record
    if ((pos & chunk_mask) == 0) {
      ThreadStartRecord start{};
      start.header = {sizeof(ThreadStartRecord), kChunkStartId, next_seq(), 0};
      start.os_tid = owner_tid;
      std::memcpy(start.thread_name, owner_name, sizeof(owner_name));
      std::memcpy(data + (pos & mask), &start, sizeof(start));
      pos += sizeof(start);
      write_pos = pos;
      // release: publishes the chunk start record.
      slot->write_pos.store(pos, std::memory_order_release);
      if (chunk_hook != nullptr) {
        *chunk_hook = chunk_hook_value;
        if (stop_at_hook) return {nullptr, kHookFired};
      }
    }
    return {data + (pos & mask), pos + size};
  }

  // Publishes an event record reserved by reserve(). `ring_slot` and
  // `next_committed` are slot and committed + 1, read before the record was
  // written.
  [[gnu::always_inline]] void commit(const Reservation& r, RingSlot* ring_slot, uint64_t next_committed) noexcept {
    committed = next_committed;
    write_pos = r.end;
    ring_slot->committed.store(next_committed, std::memory_order_relaxed);
    // release: publishes the record (and any padding) to the reader.
    ring_slot->write_pos.store(r.end, std::memory_order_release);
  }

  // Publishes a control record (not an event: it takes no seq and is not counted).
  void commit_control(const Reservation& r) noexcept {
    write_pos = r.end;
    // release: publishes the record to the reader.
    slot->write_pos.store(r.end, std::memory_order_release);
  }

  // Counts an event that was not written; its seq is spent all the same.
  void drop_full() noexcept {
    ++dropped;
    slot->dropped_full.store(slot->dropped_full.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // An audit event that waited its bound for room: a drop, counted apart too.
  void drop_audit() noexcept {
    drop_full();
    slot->audit_lost.store(slot->audit_lost.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // An event a sampling rule left out: not a drop, so no seq is spent.
  // NOLINTNEXTLINE(readability-make-member-function-const): it writes the shared slot.
  void count_sampled_out() noexcept {
    slot->sampled_out.store(slot->sampled_out.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void drop_too_big() noexcept {
    ++dropped;
    slot->dropped_too_big.store(slot->dropped_too_big.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // An audit event over max_record_bytes: a drop, counted apart too.
  void drop_audit_too_big() noexcept {
    drop_too_big();
    slot->audit_lost.store(slot->audit_lost.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  // Where a writer starts: the ring's geometry and, for a slot a previous
  // owner retired, that owner's positions and counts, so the reader sees one
  // stream. All of it from the producer's own memory: the slot's words in
  // the segment can be rewritten by others and are never read back here.
  struct Start {
    uint64_t capacity;  // a power of two
    uint32_t max_record_bytes;
    uint64_t write_pos;
    uint64_t committed;
    uint64_t dropped;
    uint64_t chunk_bytes = 0;  // flight mode: the ring's chunk size; 0: normal mode
    uint32_t owner_tid = 0;
    const char* owner_name = nullptr;  // kThreadNameBytes bytes, or nullptr
  };

  // Takes over `slot` (fresh or retired) with its ring at `ring_data`.
  void attach(RingSlot* ring_slot, std::byte* ring_data, const Start& start) noexcept {
    slot = ring_slot;
    data = ring_data;
    mask = start.capacity - 1;
    write_pos = start.write_pos;
    committed = start.committed;
    dropped = start.dropped;
    write_limit = 0;  // forces a read of read_pos on the first reserve
    room_end = 0;
    max_record_bytes = start.max_record_bytes;
    chunk_mask = start.chunk_bytes != 0 ? start.chunk_bytes - 1 : 0;
    owner_tid = start.owner_tid;
    if (start.owner_name != nullptr) std::memcpy(owner_name, start.owner_name, sizeof(owner_name));
    chunk_hook = nullptr;
    chunk_hook_value = 0;
  }
};

// Bytes a string of `stored` bytes takes in a record: header plus padded bytes.
constexpr uint32_t string_field_bytes(uint32_t stored) { return sizeof(StringHeader) + ((stored + 7U) & ~7U); }

}  // namespace ringtail::shm
