// ringtail: lock-free, in-process telemetry with shared-memory export.
//
//   #include <ringtail/ringtail.hpp>
//
//   int main() {
//     if (absl::Status s = ringtail::init(); !s.ok()) { /* report s, carry on without telemetry */ }
//     RINGTAIL_INFO("tool call", ringtail::kv("step_id", 3), ringtail::kv("tool", "write_file"));
//   }
//
// Each thread writes fixed-layout records into its own ring in this process's
// segment under /dev/shm; the `ringtail` reader decodes them in another
// process. See docs/ARCHITECTURE.md.
#pragma once

#include "ringtail/agent.hpp"
#include "ringtail/context.hpp"
#include "ringtail/field.hpp"
#include "ringtail/log.hpp"
#include "ringtail/options.hpp"
#include "ringtail/span.hpp"
#include "ringtail/trace_context.hpp"
