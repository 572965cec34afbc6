#include "ringtail/reader/sinks/fan_out_sink.hpp"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

// A batch shared by the best-effort queues, with its own copy of the
// segment's identity: the engine's may be gone before a slow sink gets to it.
struct SharedBatch {
  SegmentIdentity segment;
  EventBatch batch;
};

}  // namespace

struct FanOutSink::Durable {
  EventSink* sink;
  mutable std::mutex mutex;  // stats() reads the counters from any thread
  SinkStats stats ABSL_GUARDED_BY(mutex);
};

class FanOutSink::BestEffort {
 public:
  BestEffort(EventSink& sink, std::string name, uint64_t max_queued_bytes,
             const std::function<void(std::string_view)>& report)
      : sink_(sink), name_(std::move(name)), max_queued_bytes_(max_queued_bytes), report_(report) {
    stats_.name = name_;
    stats_.delivery = Delivery::kBestEffort;
    thread_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "rt-sink");  // for top -H, perf and gdb
      loop();
    });
  }
  ~BestEffort() {
    push(Item{Item::Kind::kStop, nullptr, {}});
    thread_.join();
  }
  BestEffort(const BestEffort&) = delete;
  BestEffort& operator=(const BestEffort&) = delete;

  // Queues the batch, or drops it (counted) when the queue is full.
  void offer(const std::shared_ptr<const SharedBatch>& shared) {
    const uint64_t bytes = shared->batch.text.size();
    std::unique_lock lock(mutex_);
    if (queued_bytes_ != 0 && queued_bytes_ + bytes > max_queued_bytes_) {
      stats_.dropped_lines += shared->batch.size();
      if (!dropping_) {
        dropping_ = true;
        lock.unlock();
        say(absl::StrCat("sink ", name_, " is behind: its queue is full, batches are dropped (counted)"));
      }
      return;
    }
    queued_bytes_ += bytes;
    queue_.push_back(Item{Item::Kind::kBatch, shared, {}});
    ++pending_;
    lock.unlock();
    changed_.notify_all();
  }
  void flush() { push(Item{Item::Kind::kFlush, nullptr, {}}); }
  void segment_finished(const SegmentIdentity& segment) { push(Item{Item::Kind::kFinished, nullptr, segment}); }

  SinkStats stats() const {
    std::lock_guard lock(mutex_);
    SinkStats stats = stats_;
    stats.queued_bytes = queued_bytes_;
    return stats;
  }
  void wait_idle() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  struct Item {
    enum class Kind { kBatch, kFlush, kFinished, kStop } kind;
    std::shared_ptr<const SharedBatch> batch;  // kBatch
    SegmentIdentity finished;                  // kFinished
  };

  void push(Item item) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(item));
      ++pending_;
    }
    changed_.notify_all();
  }
  void say(std::string_view line) const {
    if (report_) report_(line);
  }
  // A failed call: counted, reported when the sink was working until now.
  void failed(const absl::Status& status, std::string_view what) {
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      ++stats_.errors;
      first = !failing_;
      failing_ = true;
    }
    if (first)
      say(absl::StrCat("sink ", name_, ": ", std::string(what), " failed: ", status.message(), " (counted; retried)"));
  }
  void loop() {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !queue_.empty(); });
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      bool recovered = false;  // flushed again after failing
      bool caught_up = false;  // its queue emptied after dropping
      switch (item.kind) {
        case Item::Kind::kStop:
          return;
        case Item::Kind::kBatch: {
          const EventBatch& batch = item.batch->batch;
          const absl::Status status = sink_.write(batch);
          {
            std::lock_guard lock(mutex_);
            queued_bytes_ -= batch.text.size();
            if (status.ok()) {
              ++stats_.batches;
              stats_.lines += batch.size();
            } else {
              stats_.failed_lines += batch.size();
            }
            if (queued_bytes_ == 0 && dropping_) {
              dropping_ = false;
              caught_up = true;
            }
          }
          if (!status.ok()) failed(status, "write");
          break;
        }
        case Item::Kind::kFlush: {
          const absl::Status status = sink_.flush();
          if (!status.ok()) {
            failed(status, "flush");
          } else {
            std::lock_guard lock(mutex_);
            recovered = std::exchange(failing_, false);
          }
          break;
        }
        case Item::Kind::kFinished:
          sink_.segment_finished(item.finished);
          break;
      }
      if (recovered) say(absl::StrCat("sink ", name_, " works again"));
      if (caught_up) say(absl::StrCat("sink ", name_, " caught up; see its dropped lines in the stats"));
      {
        std::lock_guard lock(mutex_);
        --pending_;
      }
      changed_.notify_all();
    }
  }

  EventSink& sink_;
  const std::string name_;
  const uint64_t max_queued_bytes_;
  const std::function<void(std::string_view)>& report_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mutex_);
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t pending_ ABSL_GUARDED_BY(mutex_) = 0;  // items queued or being handled
  bool dropping_ ABSL_GUARDED_BY(mutex_) = false;
  bool failing_ ABSL_GUARDED_BY(mutex_) = false;
  SinkStats stats_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
};

FanOutSink::FanOutSink(std::function<void(std::string_view)> report) : report_(std::move(report)) {}

FanOutSink::~FanOutSink() = default;

void FanOutSink::add(EventSink& sink, std::string name, Delivery delivery, uint64_t max_queued_bytes) {
  if (delivery == Delivery::kBestEffort) {
    best_effort_.push_back(std::make_unique<BestEffort>(sink, std::move(name), max_queued_bytes, report_));
    return;
  }
  auto durable = std::make_unique<Durable>();
  durable->sink = &sink;
  durable->stats.name = std::move(name);
  durable->stats.delivery = Delivery::kDurable;
  durable_.push_back(std::move(durable));
}

absl::Status FanOutSink::write(const EventBatch& batch) {
  for (const std::unique_ptr<Durable>& durable : durable_) {
    absl::Status status = durable->sink->write(batch);
    std::lock_guard lock(durable->mutex);
    if (!status.ok()) {
      ++durable->stats.errors;
      return status;  // the pass fails: the best-effort sinks do not get lines that are read again
    }
    ++durable->stats.batches;
    durable->stats.lines += batch.size();
  }
  if (best_effort_.empty()) return absl::OkStatus();
  auto shared = std::make_shared<SharedBatch>();
  shared->segment = *batch.segment;
  shared->batch.text = batch.text;
  shared->batch.lines = batch.lines;
  shared->batch.fields = batch.fields;
  shared->batch.segment = &shared->segment;  // never moves: the batch lives on the heap
  const std::shared_ptr<const SharedBatch> view = std::move(shared);
  for (const std::unique_ptr<BestEffort>& sink : best_effort_) sink->offer(view);
  return absl::OkStatus();
}

absl::Status FanOutSink::flush_with(const std::vector<SegmentCheckpoint>& checkpoints) {
  for (const std::unique_ptr<Durable>& durable : durable_) {
    absl::Status status = durable->sink->flush_with(checkpoints);
    if (!status.ok()) {
      std::lock_guard lock(durable->mutex);
      ++durable->stats.errors;
      return status;
    }
  }
  for (const std::unique_ptr<BestEffort>& sink : best_effort_) sink->flush();
  return absl::OkStatus();
}

std::optional<std::string> FanOutSink::resume_point(const SegmentIdentity& segment) {
  if (durable_.empty()) return std::nullopt;
  return durable_.front()->sink->resume_point(segment);
}

void FanOutSink::discard() {
  for (const std::unique_ptr<Durable>& durable : durable_) durable->sink->discard();
}

void FanOutSink::segment_finished(const SegmentIdentity& segment) {
  for (const std::unique_ptr<Durable>& durable : durable_) durable->sink->segment_finished(segment);
  for (const std::unique_ptr<BestEffort>& sink : best_effort_) sink->segment_finished(segment);
}

std::vector<SinkStats> FanOutSink::stats() const {
  std::vector<SinkStats> out;
  for (const std::unique_ptr<Durable>& durable : durable_) {
    std::lock_guard lock(durable->mutex);
    out.push_back(durable->stats);
  }
  for (const std::unique_ptr<BestEffort>& sink : best_effort_) out.push_back(sink->stats());
  return out;
}

void FanOutSink::wait_best_effort_idle() {
  for (const std::unique_ptr<BestEffort>& sink : best_effort_) sink->wait_idle();
}

}  // namespace ringtail::reader
