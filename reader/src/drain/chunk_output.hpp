// ChunkOutput: where a SegmentDrainer hands its chunks of shaped JSONL lines
// (private to the drain engine).
//
// Implemented by OutputPipeline (the engine's thread writes straight into
// the writer's queue) and by DecodePool's forwarder (a worker's chunks travel
// to the engine's thread, which hands them to the OutputPipeline).
#pragma once

#include "absl/status/status.h"
#include "ringtail/reader/sinks/event_batch.hpp"

namespace ringtail::reader {

class ChunkOutput {
 public:
  virtual ~ChunkOutput() = default;
  // Hands complete lines of a segment (batch.segment) on and leaves `batch`
  // empty (possibly with the capacity of a recycled one). batch.segment must
  // stay valid until the pass's batch is flushed or discarded. An error is
  // the output's first write or flush error; what was handed on after it is
  // not written.
  virtual absl::Status write(EventBatch& batch) = 0;
};

}  // namespace ringtail::reader
