// JsonlReader: the file layer under `ringtail query/stats/export/retain`.
// It reads a JSONL file that drain wrote (docs/FORMAT.md), plain or zstd-compressed,
// as large blocks of complete lines, so that a scanner can run memchr/memmem over
// megabytes at a time.
//
//   "*.zst"  (by suffix)  zstd: one or more concatenated frames (as `zstd -dc`
//                         reads them; skippable frames are skipped)
//   anything else         plain JSONL
//
// Blocks. next_block() returns the next run of complete lines: a non-empty view
// that ends with '\n' and holds no partial line, valid until the next call (or
// until the reader is moved or destroyed). The concatenation of the blocks is the
// file's (decompressed) content up to its last '\n'. A block is about block_bytes
// long (default kJsonlBlockBytes); a line longer than that still comes whole, in
// one block: the buffer grows to hold it, and keeps its size. The reader does no
// per-line work: it fills its buffer with large read(2)s (zstd: decompresses
// straight into it), looks for the last '\n' with memrchr, and moves the partial
// line after it to the front of the buffer for the next block. Not mmap: drain
// truncates a file it reopens (a partial last line), which would be SIGBUS under
// a mapping, and zstd needs a buffer to decompress into anyway.
//
// The end. An empty view is the end of the file (an empty file has no blocks); it
// stays the end on later calls (the reader does not follow a growing file). A last
// line without '\n' (a file cut short, or one still being written) is never
// returned: truncated_tail_bytes() says how many bytes it had.
//
// Errors. A read error is an error status (the errno's code). A corrupt or
// truncated zstd stream is a DataLoss error naming the file and a compressed
// byte offset: for a truncated file its size, for damage where the decoding step
// that noticed it began (within a block's worth of compressed bytes before the
// damage; or, for a checksum mismatch, anywhere in that frame). The blocks
// before it were returned, and the partial line at the damage counts as the
// truncated tail. An error is returned again by every later call. zstd notices
// most damage where it decodes it, and the rest with the frame's content
// checksum (compress_file, compress_file.hpp, writes one, as the zstd CLI does) at the frame's end:
// lines decoded from a damaged frame before that point may have been returned.
//
// Threading: one thread at a time per reader; readers are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ringtail/reader/storage/store_dir.hpp"

struct ZSTD_DCtx_s;  // zstd.h stays out of this header: ringtail::store links zstd privately

namespace ringtail::reader {

inline constexpr size_t kJsonlBlockBytes = size_t{2} << 20;

namespace detail {

struct ZstdDctxDeleter {
  void operator()(ZSTD_DCtx_s* dctx) const;
};

}  // namespace detail

class JsonlReader {
 public:
  // Opens `path` for reading: a regular file, never through a symbolic link
  // at its last component (StoreDir::open_file). NotFound if it does not
  // exist, FailedPrecondition for a directory, a symbolic link or anything
  // else that is not a regular file, the errno's code otherwise; every
  // message names the file. `block_bytes` (at least 1) is the size blocks
  // aim for.
  static absl::StatusOr<JsonlReader> open(const std::string& path, size_t block_bytes = kJsonlBlockBytes);
  // The same for the file `name` in `dir`.
  static absl::StatusOr<JsonlReader> open(const StoreDir& dir, std::string_view name,
                                          size_t block_bytes = kJsonlBlockBytes);

  JsonlReader(JsonlReader&&) noexcept = default;
  JsonlReader& operator=(JsonlReader&&) noexcept = default;
  ~JsonlReader() = default;  // closes the file
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  // The next block of complete lines, as described above: an empty view at the
  // end, an error status after the damage.
  absl::StatusOr<std::string_view> next_block();

  // The (uncompressed) offset in the file of the last block's first byte: the
  // sum of the sizes of the blocks before it.
  uint64_t block_offset() const { return block_offset_; }
  // After the end (or an error): the bytes after the last '\n' that were never
  // returned. 0 before.
  uint64_t truncated_tail_bytes() const { return truncated_tail_bytes_; }
  bool compressed() const { return dctx_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  JsonlReader(std::string path, FileDescriptor fd, size_t block_bytes);
  // The reader of the regular file `fd`, called `path` in messages.
  static absl::StatusOr<JsonlReader> from_fd(const std::string& path, FileDescriptor fd, size_t block_bytes);

  // Append to buffer_[filled_, capacity_) until it is full, the input ends
  // (input_ended_) or an error (error_). The plain and zstd ways.
  void fill_plain();
  void fill_zstd();
  void grow_buffer();

  std::string path_;
  FileDescriptor fd_;

  // buffer_[0, consumed_): the last block returned; [consumed_, filled_): read
  // but not returned yet (a partial line, moved to the front on the next call).
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t filled_ = 0;
  size_t consumed_ = 0;

  uint64_t block_offset_ = 0;
  uint64_t returned_bytes_ = 0;  // the sum of the blocks returned
  uint64_t truncated_tail_bytes_ = 0;
  bool input_ended_ = false;  // read(2) returned 0 (zstd: and every frame is complete)
  bool at_end_ = false;       // the end was returned
  absl::Status error_;        // returned once the lines before it are

  // zstd only: compressed input in input_[input_pos_, input_size_), which
  // starts at byte input_offset_ of the file.
  std::unique_ptr<ZSTD_DCtx_s, detail::ZstdDctxDeleter> dctx_;
  std::unique_ptr<char[]> input_;
  size_t input_pos_ = 0;
  size_t input_size_ = 0;
  uint64_t input_offset_ = 0;
  bool file_ended_ = false;  // read(2) of the compressed file returned 0
  bool in_frame_ = false;    // inside a frame: the file must not end here
};

// The bytes JsonlReader would return for `path`: the content up to its last '\n'.
// A plain file's is found from its size and a read back from its end to its last
// '\n'; a .zst file is decompressed (its errors are JsonlReader's).
absl::StatusOr<uint64_t> jsonl_content_bytes(const std::string& path);

}  // namespace ringtail::reader
