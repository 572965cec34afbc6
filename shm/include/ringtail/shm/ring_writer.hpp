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
#pragma once

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

  // Sequence number of the next event, committed or dropped.
  uint64_t next_seq() const noexcept { return committed + dropped; }

  // Where a reserved record goes, and what commit() will publish. Kept in
  // registers by the caller: the record's byte stores may alias anything, so
  // nothing commit() needs is reread from memory after them.
  struct Reservation {
    std::byte* at;  // nullptr: the ring lacks room
    uint64_t end;   // write_pos after the record
  };

  // Reserves a record of `size` bytes (a multiple of 8, at most
  // max_record_bytes) on an attached writer. `at` is nullptr when the ring
  // lacks room for it.
  [[gnu::always_inline]] Reservation reserve(uint32_t size) noexcept {
    const uint64_t pos = write_pos;
    const uint64_t end = pos + size;
    if (end > room_end) [[unlikely]]
      return reserve_past_room_end(size);
    std::byte* const at = data + (pos & mask);
    if (at == nullptr) __builtin_unreachable();  // attached: data is a mapping, so the caller's test folds away
    return {at, end};
  }

  // reserve() for a record that passes room_end: it may need padding before
  // it (it would straddle the end of the ring) or a fresh read of read_pos.
  Reservation reserve_past_room_end(uint32_t size) noexcept {
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
  }
};

// Bytes a string of `stored` bytes takes in a record: header plus padded bytes.
constexpr uint32_t string_field_bytes(uint32_t stored) { return sizeof(StringHeader) + ((stored + 7U) & ~7U); }

}  // namespace ringtail::shm
