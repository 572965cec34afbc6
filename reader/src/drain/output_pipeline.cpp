#include "output_pipeline.hpp"

#include <pthread.h>

#include <utility>

#include "ringtail/reader/errno_texts.hpp"

namespace ringtail::reader {
namespace {

// Spare chunk buffers kept for reuse (each about a chunk, ~1-2 MiB).
constexpr int kMaxSpare = 4;

// What a queued batch holds: its text and its shapes (the bound in flight).
uint64_t memory_of(const EventBatch& batch) {
  return batch.text.size() + batch.lines.size() * sizeof(LineShape) + batch.fields.size() * sizeof(FieldSpan);
}

}  // namespace

OutputPipeline::OutputPipeline(EventSink& sink, bool threaded, uint64_t max_bytes_in_flight)
    : sink_(sink), threaded_(threaded), max_bytes_in_flight_(max_bytes_in_flight) {
  if (threaded_) {
    prepare_errno_texts();
    writer_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "rt-writer");  // for top -H, perf and gdb
      writer_loop();
    });
  }
}

OutputPipeline::~OutputPipeline() {
  if (!threaded_) return;
  Item stop;
  stop.kind = Item::Kind::kStop;
  queue_.enqueue(std::move(stop));
  writer_.join();
}

void OutputPipeline::fail(absl::Status status) {
  if (error_.ok()) error_ = std::move(status);
}

absl::Status OutputPipeline::write(EventBatch& batch) {
  if (batch.empty()) return error();
  if (!threaded_) {
    absl::Status status = sink_.write(batch);
    batch.clear();
    std::lock_guard lock(mutex_);
    if (!status.ok()) fail(status);
    return status;
  }
  const uint64_t bytes = memory_of(batch);
  {
    std::unique_lock lock(mutex_);
    // Bounded memory: wait for the writer (it skips chunks after an error, so this ends).
    changed_.wait(lock, [&] { return bytes_in_flight_ == 0 || bytes_in_flight_ + bytes <= max_bytes_in_flight_; });
    if (!error_.ok()) {
      batch.clear();
      return error_;
    }
    bytes_in_flight_ += bytes;
  }
  Item item;
  item.kind = Item::Kind::kLines;
  item.batch = std::move(batch);
  batch = EventBatch{};
  if (spare_.try_dequeue(batch)) spare_count_.fetch_sub(1, std::memory_order_relaxed);
  queue_.enqueue(std::move(item));
  return absl::OkStatus();
}

uint64_t OutputPipeline::end_batch(std::vector<SegmentCheckpoint> checkpoints) {
  const uint64_t batch = ++next_batch_;
  if (!threaded_) {
    absl::Status status = sink_.flush_with(checkpoints);
    std::lock_guard lock(mutex_);
    if (!error_.ok()) return batch;
    if (status.ok()) {
      flushed_ = batch;
    } else {
      fail(std::move(status));
    }
    return batch;
  }
  Item item;
  item.kind = Item::Kind::kFlush;
  item.number = batch;
  item.checkpoints = std::move(checkpoints);
  queue_.enqueue(std::move(item));
  return batch;
}

void OutputPipeline::segment_finished(const SegmentIdentity& segment) {
  if (!threaded_) {
    sink_.segment_finished(segment);
    return;
  }
  Item item;
  item.kind = Item::Kind::kSegmentFinished;
  item.finished = segment;
  queue_.enqueue(std::move(item));
}

uint64_t OutputPipeline::flushed() const {
  std::lock_guard lock(mutex_);
  return flushed_;
}

absl::Status OutputPipeline::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

absl::Status OutputPipeline::wait_flushed(uint64_t batch) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return flushed_ >= batch || !error_.ok(); });
  return error_;
}

void OutputPipeline::discard() {
  if (!threaded_) {
    sink_.discard();
    std::lock_guard lock(mutex_);
    error_ = absl::OkStatus();
    return;
  }
  const uint64_t request = ++next_discard_;
  Item item;
  item.kind = Item::Kind::kDiscard;
  item.number = request;
  queue_.enqueue(std::move(item));
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return discarded_ >= request; });
}

void OutputPipeline::writer_loop() {
  for (;;) {
    Item item;
    queue_.wait_dequeue(item);
    bool failed = false;
    {
      std::lock_guard lock(mutex_);
      failed = !error_.ok();
    }
    switch (item.kind) {
      case Item::Kind::kStop:
        return;
      case Item::Kind::kLines: {
        absl::Status status = failed ? absl::OkStatus() : sink_.write(item.batch);
        const uint64_t bytes = memory_of(item.batch);
        if (spare_count_.load(std::memory_order_relaxed) < kMaxSpare) {
          item.batch.clear();
          spare_count_.fetch_add(1, std::memory_order_relaxed);
          spare_.enqueue(std::move(item.batch));
        }
        std::lock_guard lock(mutex_);
        bytes_in_flight_ -= bytes;
        if (!status.ok()) fail(std::move(status));
        break;
      }
      case Item::Kind::kFlush: {
        if (failed) break;
        absl::Status status = sink_.flush_with(item.checkpoints);
        std::lock_guard lock(mutex_);
        if (status.ok()) {
          flushed_ = item.number;
        } else {
          fail(std::move(status));
        }
        break;
      }
      case Item::Kind::kSegmentFinished:
        if (!failed) sink_.segment_finished(item.finished);
        break;
      case Item::Kind::kDiscard: {
        sink_.discard();
        std::lock_guard lock(mutex_);
        error_ = absl::OkStatus();
        discarded_ = item.number;
        break;
      }
    }
    changed_.notify_all();
  }
}

}  // namespace ringtail::reader
