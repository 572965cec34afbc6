// The baseline: a bare single-producer single-consumer ring of 64-byte slots
// in ordinary memory. The producer writes the event straight into the slot
// and publishes it with one release store of its head; it keeps the
// consumer's tail as last seen and rereads it only when the ring looks full,
// so while there is room it never touches the consumer's cache line. A full
// ring drops the event and counts it, as ringtail does.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "common.hpp"

namespace ringtail_bench {

class RawRing {
 public:
  static constexpr uint64_t kSlots = 16384;  // x 64 B = 1 MiB, like ringtail's default ring
  static constexpr uint64_t kMask = kSlots - 1;

  RawRing() {
    slots_ = static_cast<Event64*>(std::aligned_alloc(4096, kSlots * sizeof(Event64)));
    if (slots_ == nullptr) throw std::bad_alloc();
    std::memset(static_cast<void*>(slots_), 0, kSlots * sizeof(Event64));  // fault the pages in now
  }
  ~RawRing() { std::free(slots_); }
  RawRing(const RawRing&) = delete;
  RawRing& operator=(const RawRing&) = delete;

  // Producer side (one thread).
  [[gnu::always_inline]] bool push(int step_id, double duration_ms, std::string_view tool) noexcept {
    const uint64_t head = producer_.head;
    if (head - producer_.cached_tail >= kSlots) [[unlikely]] {
      // acquire: the consumer is done with every slot before its tail.
      producer_.cached_tail = tail_.load(std::memory_order_acquire);
      if (head - producer_.cached_tail >= kSlots) {
        ++producer_.dropped;
        return false;
      }
    }
    fill_event(slots_[head & kMask], step_id, duration_ms, tool);
    producer_.head = head + 1;
    // release: publishes the slot.
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  uint64_t dropped() const noexcept { return producer_.dropped; }
  // Producer side: true once the consumer has taken everything pushed so far.
  bool drained() const noexcept { return tail_.load(std::memory_order_acquire) == producer_.head; }

  // Consumer side (one thread): one batch. Reads the head once, touches every
  // published slot, then publishes its tail once. Returns the slots consumed.
  uint64_t drain() noexcept {
    const uint64_t head = head_.load(std::memory_order_acquire);
    uint64_t tail = consumer_.tail;
    if (head == tail) return 0;
    uint64_t sum = consumer_.checksum;
    for (uint64_t i = tail; i != head; ++i) {
      const Event64& e = slots_[i & kMask];
      sum += e.tsc + e.tool_bytes;
    }
    consumer_.checksum = sum;
    consumer_.tail = head;
    // release: the consumer is done with the slots before head.
    tail_.store(head, std::memory_order_release);
    return head - tail;
  }

 private:
  struct alignas(128) Producer {
    uint64_t head = 0;
    uint64_t cached_tail = 0;
    uint64_t dropped = 0;
  };
  struct alignas(128) Consumer {
    uint64_t tail = 0;
    uint64_t checksum = 0;
  };

  Event64* slots_ = nullptr;
  Producer producer_;
  alignas(128) std::atomic<uint64_t> head_{0};
  alignas(128) std::atomic<uint64_t> tail_{0};
  Consumer consumer_;
};

}  // namespace ringtail_bench
