// libFuzzer target: the drain's checkpoints as a store holds them
// (store_checkpoint.hpp) and the resume points inside them
// (segment_resume.hpp), both untrusted input. Every input must be answered
// without a crash; what decodes encodes back to the same bytes, and every
// path a store checkpoint lists is one the recovery may open.
//
// Built and run by tests/fuzz/run_fuzzer.cmake (the fuzz.checkpoint ctest).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ringtail/reader/drain/segment_resume.hpp"
#include "ringtail/reader/storage/store_checkpoint.hpp"
#include "ringtail/reader/storage/store_names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ringtail::reader::StoreCheckpoint> checkpoint = ringtail::reader::decode_store_checkpoint(input);
  if (checkpoint.ok()) {
    if (ringtail::reader::encode(*checkpoint) != input) __builtin_trap();
    // Only "<service>/<date>/<name>" with plain components: nothing that climbs out of the store.
    for (const ringtail::reader::StoreCheckpoint::File& file : checkpoint->files) {
      const std::string& path = file.relative_path;
      if (path.empty() || path.front() == '/' || path.find("/../") != std::string::npos || path.rfind("../", 0) == 0 ||
          path.find("/./") != std::string::npos || path.rfind("./", 0) == 0) {
        __builtin_trap();
      }
    }
    (void)ringtail::reader::decode_segment_resume(checkpoint->resume);
  }
  absl::StatusOr<ringtail::reader::SegmentResume> resume = ringtail::reader::decode_segment_resume(input);
  if (resume.ok() && ringtail::reader::encode(*resume) != input) __builtin_trap();
  return 0;
}
