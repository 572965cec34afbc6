// ChunkOutput: where a SegmentDrainer hands its chunks of JSONL lines
// (private to the drain engine).
//
// Implemented by OutputPipeline (the engine's thread writes straight into
// the writer's queue) and by DecodePool's forwarder (a worker's chunks travel
// to the engine's thread, which hands them to the OutputPipeline).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "ringtail/reader/ingest/segment_view.hpp"

namespace ringtail::reader {

class ChunkOutput {
 public:
  virtual ~ChunkOutput() = default;
  // Hands complete lines of a segment on and leaves `lines` empty (possibly
  // with the capacity of a recycled buffer). `segment` must stay valid until
  // the pass's batch is flushed or discarded. An error is the output's first
  // write or flush error; what was handed on after it is not written.
  virtual absl::Status write(const SegmentIdentity& segment, std::string& lines) = 0;
};

}  // namespace ringtail::reader
