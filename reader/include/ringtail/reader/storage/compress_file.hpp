// compress_file: how the store compresses a finished data file ("*.jsonl"
// into "*.jsonl.zst", storage/store_names.hpp), for the maintainer and for
// `ringtail retain`. JsonlReader (jsonl_reader.hpp) reads what it writes.
//
// Threading: no state; files of different names may be compressed at once.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ringtail/reader/storage/store_dir.hpp"

namespace ringtail::reader {

// Compresses the plain file `plain_path` into `zst_path`: one zstd frame at
// `level` (ZSTD_minCLevel() to ZSTD_maxCLevel(); level 1 with a 2^11-entry hash
// table, see the .cpp) with a content checksum,
// readable by `zstd -dc` and by JsonlReader. Written to a temporary file beside
// `zst_path` (TemporaryFile: "<zst name>.tmp.<pid>.<tid>", created O_EXCL, with
// the source's permissions and modification time), fsync'ed, renamed over
// `zst_path` (a symbolic link there is replaced, not followed), then the
// directory is fsync'ed: a crash never leaves a partial file under the final
// name. The source is opened as JsonlReader opens files (a regular file, not
// through a link). The content is copied as it is (a partial last line
// included). FailedPrecondition if the source changes size while it is being
// compressed (it was not finished). The source is not removed; on error the
// temporary file is. Errors name the file.
absl::Status compress_file(const std::string& plain_path, const std::string& zst_path, int level = 3);
// The same for `plain_name` and `zst_name` in `dir`.
absl::Status compress_file(const StoreDir& dir, std::string_view plain_name, std::string_view zst_name, int level = 3);

}  // namespace ringtail::reader
