#include "ringtail/reader/drain/drain_engine.hpp"

#include <time.h>

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "decode_pool.hpp"
#include "output_pipeline.hpp"
#include "output_stall.hpp"
#include "ringtail/shm/segment_file.hpp"
#include "segment_drainer.hpp"

namespace ringtail::reader {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// run()'s idle sleep is at most this fraction of the time the fastest-filling
// ring would take to fill up, and a shorter one than kShortestSleep is not
// worth the system call (and the timer's slack).
constexpr int64_t kFillTimeToSleep = 16;
constexpr std::chrono::microseconds kShortestSleep{50};

// Sleeps `duration` in short steps, returning early once `stop` is set.
void sleep_unless_stopped(std::chrono::nanoseconds duration, const std::atomic<bool>& stop) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  constexpr auto kStep = std::chrono::milliseconds(20);
  while (!stop.load(std::memory_order_acquire)) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(deadline - now, kStep));
  }
}

void add_counts(DrainStats& into, const DrainStats& from) {
  static_assert(sizeof(DrainStats) == 19 * sizeof(uint64_t), "a new DrainStats field: add it here");
  into.events += from.events;
  into.lines += from.lines;
  into.bytes += from.bytes;
  into.gaps += from.gaps;
  into.dropped += from.dropped;
  into.overwritten += from.overwritten;
  into.segments_seen += from.segments_seen;
  into.segments_removed += from.segments_removed;
  into.segments_invalid += from.segments_invalid;
  into.rings_poisoned += from.rings_poisoned;
  into.late_events += from.late_events;
  into.reorder_forced += from.reorder_forced;
  into.segments_busy += from.segments_busy;
  into.producers_crashed += from.producers_crashed;
  into.audit_lost += from.audit_lost;
  into.sink_errors += from.sink_errors;
  into.passes += from.passes;
  into.records_too_big += from.records_too_big;
  into.output_stalls += from.output_stalls;
}

unsigned decode_threads(const DrainOptions& options) {
  if (!options.writer_thread) return 1;  // the sink is called on the decoding thread
  if (options.decode_threads != 0) return options.decode_threads;
  return std::clamp(std::thread::hardware_concurrency(), 1U, 4U);
}

}  // namespace

struct DrainEngine::PendingCommit {
  uint64_t batch = 0;
  std::vector<SegmentDrainer::CommitPoint> points;
  std::vector<std::string> finished;   // segments whose last lines are in this batch
  std::vector<std::string> abandoned;  // segments cut short: let go without removing them
};

DrainEngine::DrainEngine(DrainOptions options, EventSink& sink, std::function<void(std::string_view)> report)
    : options_(std::move(options)), sink_(sink), report_(std::move(report)) {
  if (!report_) report_ = [](std::string_view) {};
  output_ = std::make_unique<OutputPipeline>(sink_, options_.writer_thread, options_.max_output_bytes_in_flight);
  if (const unsigned threads = decode_threads(options_); threads > 1) pool_ = std::make_unique<DecodePool>(threads);
  stall_ = std::make_unique<OutputStall>(OutputStall::Options{
      options_.sink_error_backoff, options_.sink_error_backoff_max, options_.sink_error_report_interval});
}

DrainEngine::~DrainEngine() {
  pool_.reset();
  output_.reset();  // stop the writer before the segments it may point into go
}

void DrainEngine::report(std::string_view line) { report_(line); }

DrainStats DrainEngine::stats() const {
  std::lock_guard lock(mutex_);
  return published_;
}

absl::Status DrainEngine::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void DrainEngine::publish_stats() {
  std::lock_guard lock(mutex_);
  published_ = work_;
}

void DrainEngine::open_segment(const DiscoveredSegment& found) {
  const bool consume = options_.mode == DrainOptions::Mode::kConsume;
  absl::StatusOr<SegmentView> view =
      SegmentView::open(found.name, consume ? SegmentView::Access::kReadWrite : SegmentView::Access::kReadOnly);
  if (!view.ok()) {
    // Still being initialised, or gone since it was listed: look again later.
    if (absl::IsUnavailable(view.status()) || absl::IsNotFound(view.status())) return;
    rejected_.insert(found.name);
    ++work_.segments_invalid;
    report(absl::StrCat("skipping segment ", found.name, ": ", view.status().ToString()));
    return;
  }
  std::optional<ConsumerLease> lease;
  if (consume) {
    absl::StatusOr<ConsumerLease> acquired = ConsumerLease::acquire(*view);
    if (!acquired.ok()) {
      // Another live reader consumes it: skipped, retried at every rescan.
      if (busy_.insert(found.name).second) {
        ++work_.segments_busy;
        report(absl::StrCat("skipping segment ", found.name, " for now: ", acquired.status().ToString()));
      }
      return;
    }
    busy_.erase(found.name);
    if (acquired->took_over_from().has_value()) {
      report(absl::StrCat("segment ", found.name, ": took over the lease of reader pid ", *acquired->took_over_from(),
                          ", which is gone"));
    }
    lease.emplace(std::move(*acquired));
  }
  ++work_.segments_seen;
  segments_.emplace(found.name, make_drainer(std::move(*view), std::move(lease)));
}

std::unique_ptr<SegmentDrainer> DrainEngine::make_drainer(SegmentView view, std::optional<ConsumerLease> lease) {
  std::optional<SegmentResume> resume;
  if (options_.mode == DrainOptions::Mode::kConsume) resume = stored_resume_point(view.identity());
  return std::make_unique<SegmentDrainer>(std::move(view), std::move(lease), options_, std::move(resume));
}

std::optional<SegmentResume> DrainEngine::stored_resume_point(const SegmentIdentity& identity) {
  std::optional<std::string> stored = sink_.resume_point(identity);
  if (!stored.has_value()) return std::nullopt;
  absl::StatusOr<SegmentResume> resume = decode_segment_resume(*stored);
  if (!resume.ok()) {
    // Read positions still hold: what was stored since the last commit is written again.
    report(absl::StrCat("producer pid ", identity.pid, ": ignoring the stored resume point (",
                        resume.status().message(), "); continuing from the read positions"));
    return std::nullopt;
  }
  return std::move(*resume);
}

void DrainEngine::rescan() {
  const Discovery discovery = discover_segments(options_.discovery);
  if (!discovery.status.ok()) {
    const std::string error = discovery.status.ToString();
    if (error != discovery_error_) report(error);
    discovery_error_ = error;
    return;
  }
  discovery_error_.clear();
  std::set<std::string> skipped;
  for (const std::string& line : discovery.skipped) {
    if (!skipped_reported_.count(line)) report(absl::StrCat("skipping ", line));
    skipped.insert(line);
  }
  skipped_reported_ = std::move(skipped);

  std::set<std::string> present;
  for (const DiscoveredSegment& found : discovery.segments) {
    present.insert(found.name);
    if (segments_.count(found.name) || rejected_.count(found.name) || finished_.count(found.name)) continue;
    open_segment(found);
  }
  // Names that went away: forget them (a new segment never reuses a name
  // while its producer's pid and start time are the same process).
  auto prune = [&](std::set<std::string>& names) {
    for (auto it = names.begin(); it != names.end();) it = present.count(*it) ? std::next(it) : names.erase(it);
  };
  prune(rejected_);
  prune(busy_);
  prune(finished_);
  // Segments already open stay open even if their name went away: the
  // mapping is still valid and the producer may still write into it.
}

void DrainEngine::reset_after_sink_error(const absl::Status& error) {
  ++work_.sink_errors;
  // Once the writer has reached this point, the sink takes back what it can.
  output_->discard();
  // Forget everything read since the last commit: the next pass reads again
  // from each segment's stored resume point (what the sink kept after
  // discard()), else from the committed read positions. The segments stay open and leased
  // (no other drain takes them while the output fails), each with a new
  // drainer.
  pending_.clear();
  for (auto& [name, drainer] : segments_) {
    SegmentDrainer::Parts parts = drainer->take_parts();
    drainer = make_drainer(std::move(parts.view), std::move(parts.lease));
  }
  {
    std::lock_guard lock(mutex_);
    last_error_ = error;
  }
  publish_stats();
}

void DrainEngine::retire_segment(const std::string& name) {
  auto it = segments_.find(name);
  if (it == segments_.end()) return;
  SegmentDrainer& drainer = *it->second;
  if (options_.mode == DrainOptions::Mode::kConsume && options_.remove_drained_dead_segments) {
    // Unlink first, then give the lease back: a reader waiting for the
    // lease must not drain (and note) the same dead segment again.
    if (shm::SegmentFile::remove(drainer.name())) ++work_.segments_removed;
    drainer.release_lease();
  } else {
    finished_.insert(drainer.name());
  }
  output_->segment_finished(drainer.identity());
  // The segment's last chunks came before the flush of the batch just
  // applied, so the writer no longer points at its identity.
  segments_.erase(it);
}

void DrainEngine::abandon_segment(const std::string& name) {
  auto it = segments_.find(name);
  if (it == segments_.end()) return;
  it->second->release_lease();
  output_->segment_finished(it->second->identity());
  rejected_.insert(name);
  segments_.erase(it);
}

absl::Status DrainEngine::apply_flushed() {
  if (absl::Status error = output_->error(); !error.ok()) {
    reset_after_sink_error(error);
    return error;
  }
  // Everything up to this batch is in the OS: publish its read positions.
  const uint64_t flushed = output_->flushed();
  size_t done = 0;
  for (; done < pending_.size() && pending_[done].batch <= flushed; ++done) {
    for (const SegmentDrainer::CommitPoint& point : pending_[done].points) point.cursor->commit_to(point.position);
    for (const std::string& name : pending_[done].finished) retire_segment(name);
    for (const std::string& name : pending_[done].abandoned) abandon_segment(name);
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(done));
  return absl::OkStatus();
}

absl::Status DrainEngine::pass(bool rescan_now, bool final_drain, PassResult* result, bool continuing) {
  if (absl::Status status = apply_flushed(); !status.ok()) return status;
  // drain_once()'s further passes are one pass to the reorder buffer: its
  // age rule (a line held W of the reader's time goes out whatever its
  // timestamp) must not send a backlog's lines out of order because reading
  // it took longer than W.
  if (!continuing) once_steady_ns_ = clock_ns(CLOCK_MONOTONIC);
  DrainContext ctx{*output_, work_, report_, clock_ns(CLOCK_REALTIME), once_steady_ns_, final_drain};
  if (rescan_now) {
    rescan();
    for (auto& [name, drainer] : segments_) {
      if (!drainer->retiring) drainer->check_producer(ctx);
    }
  }
  std::vector<SegmentDrainer*> drainers;
  for (auto& [name, drainer] : segments_) {
    if (!drainer->retiring && (!continuing || drainer->stopped_at_pass_bytes())) drainers.push_back(drainer.get());
  }
  if (absl::Status status =
          drain_segments(drainers, rescan_now, final_drain, ctx.realtime_now_ns, ctx.steady_now_ns, result);
      !status.ok()) {
    reset_after_sink_error(status);
    return status;
  }
  for (const SegmentDrainer* drainer : drainers) result->more = result->more || drainer->stopped_at_pass_bytes();
  PendingCommit commit;
  std::vector<SegmentCheckpoint> checkpoints;
  for (auto& [name, drainer] : segments_) {
    if (drainer->retiring) continue;  // its last commit points are already queued
    if (drainer->cut()) {
      // Its file was cut short: let it go once the batches that still point
      // at its cursors are applied; not reopened until its name goes away.
      ++work_.segments_invalid;
      report(absl::StrCat("skipping segment ", name, " (service \"", drainer->identity().service, "\", pid ",
                          drainer->identity().pid, "): its file was cut short while it was read (",
                          "the pages past the new end read as zeros); what it held before is written, the rest "
                          "is not trusted"));
      drainer->retiring = true;
      commit.abandoned.push_back(name);
      continue;
    }
    drainer->commit_points(commit.points);
    if (options_.mode == DrainOptions::Mode::kConsume) {
      // Stored with this pass's lines, before its read positions are published.
      std::string resume = encode(drainer->resume_point());
      if (resume != drainer->resume_sent) {
        drainer->resume_sent = resume;
        checkpoints.push_back(SegmentCheckpoint{drainer->identity(), std::move(resume)});
      }
    }
    if (drainer->finished()) {
      drainer->retiring = true;
      commit.finished.push_back(name);
    }
  }
  commit.batch = output_->end_batch(std::move(checkpoints));
  pending_.push_back(std::move(commit));
  // (A drain_once() pass with more to follow does not wait: the writer
  // flushes it while the next one decodes.)
  if (final_drain && !result->more)
    (void)output_->wait_flushed(pending_.back().batch);  // the outcome is apply_flushed()'s
  if (absl::Status status = apply_flushed(); !status.ok()) return status;
  // Over segments_ again: apply_flushed() may have retired (destroyed) some of `drainers`.
  for (const auto& [name, drainer] : segments_) {
    if (!drainer->retiring) result->fill_ns = std::min(result->fill_ns, drainer->time_to_fill_ns());
  }
  ++work_.passes;
  publish_stats();
  if (options_.on_progress) {
    DrainProgress progress;
    progress.segments = work_.segments_seen;
    uint64_t backlogs = 0;
    for (const auto& [name, drainer] : segments_) {
      if (!drainer->retiring && drainer->stopped_at_pass_bytes()) ++backlogs;
    }
    progress.segments_done = progress.segments > backlogs ? progress.segments - backlogs : 0;
    progress.events = work_.events;
    progress.bytes = work_.bytes;
    options_.on_progress(progress);
  }
  return absl::OkStatus();
}

absl::Status DrainEngine::drain_segments(const std::vector<SegmentDrainer*>& drainers, bool rescan_now,
                                         bool final_drain, int64_t realtime_now_ns, int64_t steady_now_ns,
                                         PassResult* result) {
  if (pool_ == nullptr || drainers.size() < 2) {
    DrainContext ctx{*output_, work_, report_, realtime_now_ns, steady_now_ns, final_drain};
    for (SegmentDrainer* drainer : drainers) {
      if (absl::Status status = drainer->drain(ctx, rescan_now, &result->busy); !status.ok()) return status;
    }
    return absl::OkStatus();
  }
  // One job per segment; each with its own counters, merged afterwards.
  struct JobResult {
    DrainStats stats;
    bool busy = false;
    absl::Status status;
  };
  std::vector<JobResult> results(drainers.size());
  std::mutex report_mutex;
  const std::function<void(std::string_view)> report = [&](std::string_view line) {
    std::lock_guard lock(report_mutex);
    report_(line);
  };
  const DecodePool::Job job = [&](size_t i, ChunkOutput& out) {
    DrainContext ctx{out, results[i].stats, report, realtime_now_ns, steady_now_ns, final_drain};
    results[i].status = drainers[i]->drain(ctx, rescan_now, &results[i].busy);
  };
  absl::Status status = pool_->run(drainers.size(), job, *output_);
  for (const JobResult& r : results) {
    add_counts(work_, r.stats);
    result->busy = result->busy || r.busy;
    if (status.ok() && !r.status.ok()) status = r.status;
  }
  return status;
}

absl::Status DrainEngine::drain_once() {
  PassResult result;
  absl::Status status = pass(/*rescan=*/true, /*final_drain=*/true, &result);
  // Dead producers' backlogs go on in passes of pass_bytes; their data is
  // finite, and a live producer's final pass never stops at pass_bytes.
  while (status.ok() && result.more) {
    result = PassResult{};
    status = pass(/*rescan=*/false, /*final_drain=*/true, &result, /*continuing=*/true);
  }
  if (status.ok()) {
    // Returns with the sink quiet: what the pass queued after its flush
    // (segment_finished) is done too, so the caller may use the sink now.
    (void)output_->wait_flushed(output_->end_batch());
    status = apply_flushed();
  }
  if (status.ok()) {
    std::lock_guard lock(mutex_);
    last_error_ = absl::OkStatus();
  }
  return status;
}

uint64_t DrainEngine::last_batch() const {
  // Batches leave pending_ only once flushed, so an empty pending_ means
  // flushed() is the last one.
  return std::max(pending_.empty() ? 0 : pending_.back().batch, output_->flushed());
}

std::chrono::milliseconds DrainEngine::output_failed(const absl::Status& error) {
  if (!stall_->active()) ++work_.output_stalls;
  resume_batch_ = 0;
  const std::chrono::milliseconds pause =
      stall_->failed(error, std::chrono::steady_clock::now(), clock_ns(CLOCK_REALTIME), report_);
  // Also on segments opened since the last try.
  for (auto& [name, drainer] : segments_) {
    drainer->mark_output_stalled(static_cast<uint64_t>(stall_->since_realtime_ns()), stall_->error_number());
  }
  publish_stats();
  if (options_.on_sink_error) options_.on_sink_error(error);
  return pause;
}

void DrainEngine::check_output_resumed() {
  if (!stall_->active()) return;
  // A pass that wrote nothing proves nothing (an empty flush may succeed on
  // a full disk): wait for a batch with lines, then for its flush.
  if (resume_batch_ == 0) {
    if (work_.bytes != bytes_before_pass_) resume_batch_ = last_batch();
    return;
  }
  if (output_->flushed() < resume_batch_) return;
  // The marks go before the line that says so: whoever reads "output
  // resumed" (a person, a test, `ringtail ls` after it) finds them cleared.
  for (auto& [name, drainer] : segments_) drainer->clear_output_stalled();
  stall_->resumed(std::chrono::steady_clock::now(), report_);
}

void DrainEngine::run(const std::atomic<bool>& stop) {
  auto next_rescan = std::chrono::steady_clock::now();
  while (!stop.load(std::memory_order_acquire)) {
    const auto now = std::chrono::steady_clock::now();
    const bool rescan_now = now >= next_rescan;
    if (rescan_now) next_rescan = now + options_.rescan_interval;
    PassResult result;
    bytes_before_pass_ = work_.bytes;
    if (absl::Status status = pass(rescan_now, /*final_drain=*/false, &result); !status.ok()) {
      if (options_.sink_error_backoff.count() <= 0) {
        report(absl::StrCat("output failed, nothing after the last flush was committed: ", status.ToString()));
        return;
      }
      sleep_unless_stopped(output_failed(status), stop);
      continue;
    }
    check_output_resumed();
    // Idle back-off: a pass that found little pending sleeps, so write_pos is
    // loaded at most once per ring per idle_sleep (never spun on); but for at
    // most a sixteenth of the time the fastest-filling ring would take to
    // fill up at its last rate: the sleep, the next pass, the writer's flush
    // and the pass that then commits must all fit in that time (a quarter
    // dropped more at 2 x 2 M events/s into 1 MiB rings: bench/README.md,
    // "drain --follow at 2 x 2 M events/s"). A ring about to be full waits
    // for its commit instead: another pass would read nothing new (its
    // producer has no room), so the engine waits for the writer to flush
    // what it was given rather than spinning.
    if (!result.busy) {
      const std::chrono::nanoseconds sleep = std::min<std::chrono::nanoseconds>(
          options_.idle_sleep, std::chrono::nanoseconds(result.fill_ns / kFillTimeToSleep));
      if (sleep < kShortestSleep && !pending_.empty()) {
        (void)output_->wait_flushed(pending_.back().batch);  // the outcome is the next pass's apply_flushed()'s
      } else if (sleep >= kShortestSleep) {
        std::this_thread::sleep_for(sleep);
      }
    }
  }
  if (absl::Status status = drain_once(); !status.ok()) {
    report(absl::StrCat("output failed in the final drain, nothing after the last flush was committed: ",
                        status.ToString()));
  }
}

}  // namespace ringtail::reader
