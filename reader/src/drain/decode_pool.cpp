#include "decode_pool.hpp"

#include <pthread.h>

#include <utility>

namespace ringtail::reader {

DecodePool::DecodePool(unsigned threads) {
  if (threads == 0) threads = 1;
  workers_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    workers_.emplace_back([this] {
      ::pthread_setname_np(::pthread_self(), "rt-decode");  // for top -H, perf and gdb
      worker_loop();
    });
  }
}

DecodePool::~DecodePool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

absl::Status DecodePool::Forwarder::write(EventBatch& batch) {
  DecodePool& pool = pool_;
  if (pool.failed_.load(std::memory_order_acquire)) {
    batch.clear();
    std::lock_guard lock(pool.error_mutex_);
    return pool.error_;
  }
  if (batch.empty()) return absl::OkStatus();
  pool.free_slots_.wait();  // bounded: the forwarding thread signals a slot per chunk it takes
  Chunk chunk = std::move(batch);
  batch = EventBatch{};
  (void)pool.spare_.try_dequeue(batch);
  pool.chunks_.enqueue(std::move(chunk));
  return absl::OkStatus();
}

void DecodePool::forward(Chunk& chunk, ChunkOutput& output) {
  free_slots_.signal();
  absl::Status status = output.write(chunk);
  if (!status.ok() && !failed_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(error_mutex_);
    error_ = std::move(status);
    failed_.store(true, std::memory_order_release);
  }
  // output.write() left the chunk empty, maybe with a recycled one's capacity.
  if (chunk.text.capacity() != 0 && spare_.size_approx() < kMaxQueuedChunks) spare_.enqueue(std::move(chunk));
}

absl::Status DecodePool::run(size_t jobs, const Job& job, ChunkOutput& output) {
  {
    std::lock_guard lock(mutex_);
    job_ = &job;
    jobs_ = jobs;
    next_job_.store(0, std::memory_order_relaxed);
    ++generation_;
  }
  {
    std::lock_guard lock(error_mutex_);
    error_ = absl::OkStatus();
  }
  failed_.store(false, std::memory_order_relaxed);
  wake_.notify_all();

  // Forward chunks until every worker has said it is done. A worker's "done"
  // (a chunk without a segment) comes after its chunks: one producer's items
  // leave the queue in order.
  Chunk chunk;
  for (size_t done = 0; done < workers_.size();) {
    chunks_.wait_dequeue(chunk);
    if (chunk.segment == nullptr) {
      ++done;
    } else {
      forward(chunk, output);
    }
  }
  {
    std::lock_guard lock(mutex_);
    job_ = nullptr;
  }
  std::lock_guard lock(error_mutex_);
  return error_;
}

void DecodePool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    const Job* job = nullptr;
    size_t jobs = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      job = job_;
      jobs = jobs_;
    }
    for (size_t i = next_job_.fetch_add(1, std::memory_order_relaxed); i < jobs;
         i = next_job_.fetch_add(1, std::memory_order_relaxed)) {
      (*job)(i, forwarder_);
    }
    chunks_.enqueue(Chunk{});  // done (not counted against free_slots_: one per worker)
  }
}

}  // namespace ringtail::reader
