// EventSink: where the drain engine (drain/drain_engine.hpp) puts what it
// drains: batches of one segment's JSONL lines with their shapes
// (event_batch.hpp), which a sink encodes for its destination without parsing
// them.
//
// Contract, which the engine's commit discipline rests on:
//   - write() gets a batch of complete '\n'-terminated lines of one segment,
//     each with its shape. A sink may buffer them, or pass them on right away.
//   - flush() returns OK only once everything written before it is in the OS
//     (write(2) done, or fflush done for a FILE*). Only then does the engine
//     publish the ring read positions of those lines, so a reader killed at
//     any point repeats at most what was written after the last OK flush.
//   - After a write() or flush() fails, the engine calls discard(), forgets
//     everything it read since its last commit and reads it again from the
//     committed read positions. A sink that can take back what it wrote since
//     its last OK flush (StoreSink truncates its files) does so, and then
//     nothing is duplicated; one that cannot (a pipe) leaves it.
//   - Exactly once (optional): with every flush the engine hands the sink,
//     per segment whose state moved, its resume point (segment_resume.hpp,
//     encoded): flush_with(). A sink that stores it with the data, so that
//     the two always agree (StoreSink: a checkpoint file written after the
//     data and before any rotation), gives it back from resume_point() when
//     a later engine opens the segment; the engine then continues where the
//     stored output ends, and a reader killed at any point writes nothing
//     twice. flush_with() fails if a checkpoint cannot be stored; discard()
//     then goes back to the last stored one. A sink without storage (a pipe)
//     keeps none: at least once.
//   - segment_finished(): the segment was drained to its end (its producer is
//     gone) and everything written for it was flushed: nothing more comes for
//     it, so a sink may close its file.
//
// Threading: the engine calls a sink from one thread at a time: its writer
// thread (DrainOptions::writer_thread, the default), else its own thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ringtail/reader/ingest/segment_view.hpp"
#include "ringtail/reader/sinks/event_batch.hpp"

namespace ringtail::reader {

// A segment's resume point as of a flush (see flush_with()).
struct SegmentCheckpoint {
  SegmentIdentity segment;
  std::string resume;  // encode(SegmentResume)
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Complete '\n'-terminated lines of one segment (batch.segment), with their shapes.
  virtual absl::Status write(const EventBatch& batch) = 0;
  // After OK, everything written is in the OS: the engine commits read positions only after this.
  virtual absl::Status flush() = 0;
  // flush(), then stores each checkpoint with the data (after it). Default:
  // flush(), storing nothing.
  virtual absl::Status flush_with(const std::vector<SegmentCheckpoint>& /*checkpoints*/) { return flush(); }
  // The resume point last stored for `segment`, if any. Called on the
  // engine's thread while nothing is queued for the segment (before its
  // first line, or after discard()).
  virtual std::optional<std::string> resume_point(const SegmentIdentity& /*segment*/) { return std::nullopt; }
  // After a failed write() or flush(): drop, and where possible take back,
  // what was written since the last OK flush. Default: nothing.
  virtual void discard() {}
  // Nothing more will be written for this segment. Default: nothing.
  virtual void segment_finished(const SegmentIdentity& /*segment*/) {}
};

}  // namespace ringtail::reader
