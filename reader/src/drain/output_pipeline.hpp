// OutputPipeline: between the drain engine's thread and its EventSink (private
// to the engine; see drain_engine.hpp).
//
// Threaded (the default): a writer thread owns the sink. The engine hands it
// chunks of lines through a moodycamel::BlockingConcurrentQueue, then ends
// each pass with a flush marker (end_batch() returns the batch number); the
// writer calls EventSink::write per chunk and EventSink::flush per marker and
// publishes the highest batch whose flush returned OK (flushed()). The engine
// commits a pass's read positions once flushed() reaches its batch, so the
// commit rule is the same as in the direct mode, only later; meanwhile the
// engine decodes the next pass while the writer writes. Memory is bounded:
// write() blocks while more than max_bytes_in_flight (lines and their shapes)
// are queued (a slow sink slows the engine down, and the producers' rings
// fill, rather than the reader's memory growing).
//
// After a write or flush error the writer skips everything up to the next
// discard(), which the engine calls once it has seen error(): discard()
// waits for the writer to reach it, calls EventSink::discard() there and clears
// the error.
//
// Direct (threaded = false): every call goes straight to the sink on the
// calling thread.
//
// Threading: one engine thread calls everything but the accessors, which
// any thread may call. One thread only, because the writer's queue is FIFO
// per producing thread: a flush marker must come after every chunk of its
// batch (DecodePool forwards its workers' chunks through the engine's thread
// for this reason).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "chunk_output.hpp"
#include "concurrentqueue/blockingconcurrentqueue.h"
#include "concurrentqueue/concurrentqueue.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/sinks/event_sink.hpp"

namespace ringtail::reader {

class OutputPipeline final : public ChunkOutput {
 public:
  OutputPipeline(EventSink& sink, bool threaded, uint64_t max_bytes_in_flight);
  ~OutputPipeline() override;  // the writer finishes what is queued (without a flush) and stops
  OutputPipeline(const OutputPipeline&) = delete;
  OutputPipeline& operator=(const OutputPipeline&) = delete;

  // Hands a chunk of a segment's lines on and leaves `batch` empty (with the
  // capacity of a recycled chunk when one is spare). batch.segment must stay
  // valid until the pass this write belongs to is flushed or discarded.
  // Threaded: blocks while too much is in flight; returns the first error
  // the writer met (if any) instead of queueing. Direct: the sink's own
  // result.
  absl::Status write(EventBatch& batch) override;
  // Ends a batch: the sink is flushed after what was written before it,
  // storing `checkpoints` with it (EventSink::flush_with). Returns the batch's
  // number (1, 2, ...). Direct: flushes now.
  uint64_t end_batch(std::vector<SegmentCheckpoint> checkpoints = {});
  // Queued after the current batch; skipped after an error.
  void segment_finished(const SegmentIdentity& segment);

  // The highest batch whose flush returned OK.
  uint64_t flushed() const;
  // The first write or flush error since the last discard(); OK if none.
  absl::Status error() const;
  // Waits until batch `batch` was flushed or an error happened; error().
  absl::Status wait_flushed(uint64_t batch);
  // After an error: waits until the writer has reached this point, calls
  // EventSink::discard() and clears the error.
  void discard();

 private:
  struct Item {
    enum class Kind { kLines, kFlush, kSegmentFinished, kDiscard, kStop } kind = Kind::kStop;
    EventBatch batch;                            // kLines
    SegmentIdentity finished;                    // kSegmentFinished
    uint64_t number = 0;                         // kFlush: batch; kDiscard: request
    std::vector<SegmentCheckpoint> checkpoints;  // kFlush
  };

  void writer_loop();
  void fail(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  EventSink& sink_;
  const bool threaded_;
  const uint64_t max_bytes_in_flight_;
  moodycamel::BlockingConcurrentQueue<Item> queue_;
  // Chunks the writer is done with, for the engine to fill again (keeps
  // their capacity: no reallocation and page faults per chunk).
  moodycamel::ConcurrentQueue<EventBatch> spare_;
  std::atomic<int> spare_count_{0};
  std::thread writer_;
  uint64_t next_batch_ = 0;    // engine thread
  uint64_t next_discard_ = 0;  // engine thread

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // any of the below changed
  uint64_t bytes_in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t flushed_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t discarded_ ABSL_GUARDED_BY(mutex_) = 0;  // last discard request the writer carried out
  absl::Status error_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace ringtail::reader
