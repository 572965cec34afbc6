// DecodePool: drains several segments at once on worker threads (private to
// the drain engine; see drain_engine.hpp for the pass it is part of).
//
// run(jobs, job, output) calls job(i, out) once for each i in [0, jobs) on
// the pool's workers, each job on one worker, and returns when all are done.
// What a job writes to `out` does not go to `output` from the worker: it is
// queued (moodycamel::BlockingConcurrentQueue) to the thread that called
// run(), which hands it to `output` in the order each worker wrote it. The
// OutputPipeline thus keeps a single producing thread, so its FIFO still puts
// a pass's flush marker after every chunk of the pass (the commit rule).
// Memory: at most kMaxQueuedChunks chunks wait to be forwarded (a worker
// waits beyond), on top of the output's own bound.
//
// Threading: run() from one thread at a time; jobs run concurrently with
// each other, never with another run().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "chunk_output.hpp"
#include "concurrentqueue/blockingconcurrentqueue.h"
#include "concurrentqueue/concurrentqueue.h"
#include "concurrentqueue/lightweightsemaphore.h"

namespace ringtail::reader {

class DecodePool {
 public:
  using Job = std::function<void(size_t index, ChunkOutput& out)>;

  explicit DecodePool(unsigned threads);  // at least 1 worker
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  unsigned threads() const { return static_cast<unsigned>(workers_.size()); }

  // Runs the jobs; forwards their chunks to `output` meanwhile. Returns the
  // first error `output` gave (jobs still run to the end; their later
  // writes return that error at once and are dropped).
  absl::Status run(size_t jobs, const Job& job, ChunkOutput& output);

 private:
  static constexpr int kMaxQueuedChunks = 8;

  // A chunk of a job's lines; one without a segment says a worker is done.
  using Chunk = EventBatch;
  // The ChunkOutput jobs see: queues to the thread in run().
  class Forwarder final : public ChunkOutput {
   public:
    explicit Forwarder(DecodePool& pool) : pool_(pool) {}
    absl::Status write(EventBatch& batch) override;

   private:
    DecodePool& pool_;
  };

  void worker_loop();
  // Hands one queued chunk to `output` (recycling its buffer).
  void forward(Chunk& chunk, ChunkOutput& output);

  std::vector<std::thread> workers_;
  Forwarder forwarder_{*this};
  moodycamel::BlockingConcurrentQueue<Chunk> chunks_;
  moodycamel::LightweightSemaphore free_slots_{kMaxQueuedChunks};
  moodycamel::ConcurrentQueue<EventBatch> spare_;  // emptied chunks, capacity kept

  std::mutex mutex_;
  std::condition_variable wake_;                      // a new run, or stop
  const Job* job_ ABSL_GUARDED_BY(mutex_) = nullptr;  // while a run is on
  size_t jobs_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mutex_) = 0;  // runs started
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  std::atomic<size_t> next_job_{0};

  std::mutex error_mutex_;
  absl::Status error_ ABSL_GUARDED_BY(error_mutex_);  // the output's first error in this run
  std::atomic<bool> failed_{false};
};

}  // namespace ringtail::reader
