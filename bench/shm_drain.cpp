#include "shm_drain.hpp"

#include <time.h>

#include <cstring>

#include "absl/status/status.h"
#include "common.hpp"

namespace ringtail_bench {

namespace shm = ringtail::shm;

absl::StatusOr<std::unique_ptr<ShmDrain>> ShmDrain::open(const std::string& segment_name) {
  absl::StatusOr<shm::SegmentFile> file = shm::SegmentFile::open(segment_name, shm::SegmentFile::Access::kReadWrite);
  if (!file.ok()) return file.status();
  std::unique_ptr<ShmDrain> drain(new ShmDrain());
  drain->file_ = std::move(*file);
  drain->base_ = drain->file_.data();
  const auto& header = *reinterpret_cast<const shm::SegmentHeader*>(drain->base_);
  // The segment is our own process's, so its geometry is trusted here; a
  // real reader validates it (shm::make_geometry) first.
  // Normal mode only: this drain trusts that the writer waits for read_pos.
  if (header.magic != shm::kMagic || header.abi_version != shm::kNormalAbiVersion) {
    return absl::DataLossError("not a normal-mode (version 2) ringtail segment");
  }
  drain->directory_ = reinterpret_cast<shm::RingSlot*>(drain->base_ + header.directory_offset);
  drain->slot_count_ = header.ring_slot_count;
  drain->capacity_ = header.ring_capacity;
  drain->read_pos_.assign(drain->slot_count_, 0);
  drain->seen_.assign(drain->slot_count_, false);
  return drain;
}

ShmDrain::~ShmDrain() { stop(); }

void ShmDrain::start() {
  if (thread_.joinable()) return;
  stop_.store(false, std::memory_order_relaxed);
  thread_ = std::thread([this] { run(); });
}

void ShmDrain::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  thread_.join();
}

namespace {
uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

void ShmDrain::run() {
  prepare_consumer_thread();
  uint64_t last = monotonic_ns();
  while (!stop_.load(std::memory_order_acquire)) {
    const uint64_t now = monotonic_ns();
    if (now - last > max_gap_ns_.load(std::memory_order_relaxed)) {
      max_gap_ns_.store(now - last, std::memory_order_relaxed);
    }
    last = now;
    if (drain_once() == 0) {
      sleeps_.fetch_add(1, std::memory_order_relaxed);
      backoff_sleep();
    }
  }
  drain_once();
}

uint64_t ShmDrain::drain_once() {
  uint64_t consumed = 0;
  uint64_t events = 0;
  for (uint32_t i = 0; i < slot_count_; ++i) {
    shm::RingSlot& slot = directory_[i];
    // acquire: the slot's owner fields (and its first records) come with the state.
    const uint32_t state = slot.state.load(std::memory_order_acquire);
    // Rings are claimed lowest free index first and never freed again, so
    // the first free slot ends the used prefix of the directory.
    if (state == static_cast<uint32_t>(shm::SlotState::kFree)) break;
    if (!seen_[i]) {
      seen_[i] = true;
      read_pos_[i] = slot.read_pos.load(std::memory_order_relaxed);
    }
    // acquire: every record before write_pos is complete. Read once per batch.
    const uint64_t write_pos = slot.write_pos.load(std::memory_order_acquire);
    uint64_t pos = read_pos_[i];
    if (write_pos == pos) continue;
    const std::byte* data = base_ + slot.data_offset;
    const uint64_t mask = capacity_ - 1;
    while (pos < write_pos) {
      uint32_t prefix[2];
      std::memcpy(prefix, data + (pos & mask), sizeof(prefix));
      const uint32_t size = prefix[0];
      if (size < shm::kRecordPrefixBytes || size % 8 != 0 || size > write_pos - pos) {
        pos = write_pos;  // corrupt: skip the batch (never happens with a healthy producer)
        break;
      }
      checksum_ += size;
      if (prefix[1] < shm::kControlIdBase) ++events;
      pos += size;
    }
    consumed += write_pos - read_pos_[i];
    read_pos_[i] = write_pos;
    // release: this reader is done with every byte before write_pos. Once per batch.
    slot.read_pos.store(write_pos, std::memory_order_release);
  }
  if (consumed != 0) {
    bytes_.fetch_add(consumed, std::memory_order_relaxed);
    events_.fetch_add(events, std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
  }
  return consumed;
}

ShmDrain::Stats ShmDrain::stats() const {
  return Stats{events_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed),
               batches_.load(std::memory_order_relaxed), sleeps_.load(std::memory_order_relaxed),
               max_gap_ns_.load(std::memory_order_relaxed)};
}

}  // namespace ringtail_bench
