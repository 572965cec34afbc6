// prepare_errno_texts(): builds absl's table of errno texts (what
// absl::ErrnoToStatus writes) now, before a component starts its threads.
//
// absl builds the table on first use, inside a shared library that
// ThreadSanitizer does not instrument, so two threads that first fail at
// once look to it like a race on the table (the build is a thread-safe
// static, not a real race). Built before the threads exist, it is ordered
// before all of them by pthread_create, and the report cannot arise.
#pragma once

namespace ringtail::reader {

void prepare_errno_texts();

}  // namespace ringtail::reader
