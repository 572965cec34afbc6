#include "ringtail/reader/storage/jsonl_reader.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/storage/file_io.hpp"

namespace ringtail::reader {

namespace detail {

void ZstdDctxDeleter::operator()(ZSTD_DCtx_s* dctx) const { ZSTD_freeDCtx(dctx); }

}  // namespace detail

namespace {

// Compressed bytes per read(2). JSONL compresses 5-10x, so this feeds a block
// of a few MiB in one or two reads.
constexpr size_t kZstdInputBytes = size_t{512} << 10;
bool is_zstd_path(std::string_view path) { return path.ends_with(".zst"); }

}  // namespace

absl::StatusOr<JsonlReader> JsonlReader::open(const std::string& path, size_t block_bytes) {
  absl::StatusOr<FileDescriptor> fd = open_file_for_reading(path);
  if (!fd.ok()) return fd.status();
  return from_fd(path, *std::move(fd), block_bytes);
}

absl::StatusOr<JsonlReader> JsonlReader::open(const StoreDir& dir, std::string_view name, size_t block_bytes) {
  absl::StatusOr<FileDescriptor> fd = dir.open_file(name, O_RDONLY);
  if (!fd.ok()) return fd.status();
  return from_fd(dir.path_of(name), *std::move(fd), block_bytes);
}

absl::StatusOr<JsonlReader> JsonlReader::from_fd(const std::string& path, FileDescriptor fd, size_t block_bytes) {
  // Read ahead harder: the file is read once, front to back. Advice only, so
  // its failure changes nothing.
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  JsonlReader reader(path, std::move(fd), std::max<size_t>(block_bytes, 1));
  if (is_zstd_path(path)) {
    reader.dctx_.reset(ZSTD_createDCtx());
    if (reader.dctx_ == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot create a zstd decompression context for ", path));
    }
    reader.input_ = std::make_unique_for_overwrite<char[]>(kZstdInputBytes);
  }
  return reader;
}

JsonlReader::JsonlReader(std::string path, FileDescriptor fd, size_t block_bytes)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      buffer_(std::make_unique_for_overwrite<char[]>(block_bytes)),
      capacity_(block_bytes) {}

absl::StatusOr<std::string_view> JsonlReader::next_block() {
  if (at_end_) return std::string_view();
  if (!error_.ok() && consumed_ == filled_) return error_;
  // The partial line after the last block goes to the front; it holds no '\n',
  // so the search below starts after it.
  if (consumed_ != 0) {
    std::memmove(buffer_.get(), buffer_.get() + consumed_, filled_ - consumed_);
    filled_ -= consumed_;
    consumed_ = 0;
  }
  size_t searched = filled_;
  while (error_.ok() && !input_ended_) {
    if (filled_ == capacity_) grow_buffer();  // a line longer than the buffer
    if (dctx_ != nullptr) {
      fill_zstd();
    } else {
      fill_plain();
    }
    const void* newline = ::memrchr(buffer_.get() + searched, '\n', filled_ - searched);
    if (newline != nullptr) {
      consumed_ = static_cast<size_t>(static_cast<const char*>(newline) - buffer_.get()) + 1;
      block_offset_ = returned_bytes_;
      returned_bytes_ += consumed_;
      return std::string_view(buffer_.get(), consumed_);
    }
    searched = filled_;
  }
  // The input ended or broke with a partial line (or nothing) left over.
  truncated_tail_bytes_ = filled_;
  consumed_ = filled_;
  if (!error_.ok()) return error_;
  at_end_ = true;
  return std::string_view();
}

void JsonlReader::grow_buffer() {
  const size_t capacity = capacity_ * 2;
  std::unique_ptr<char[]> buffer = std::make_unique_for_overwrite<char[]>(capacity);
  std::memcpy(buffer.get(), buffer_.get(), filled_);
  buffer_ = std::move(buffer);
  capacity_ = capacity;
}

void JsonlReader::fill_plain() {
  const ssize_t n = read_fully(fd_.get(), buffer_.get() + filled_, capacity_ - filled_);
  if (n < 0) {
    error_ = absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path_));
    return;
  }
  filled_ += static_cast<size_t>(n);
  // A short read of a regular file is its end; read_fully() only stops short
  // after read(2) returned 0.
  if (filled_ < capacity_) input_ended_ = true;
}

void JsonlReader::fill_zstd() {
  while (filled_ < capacity_) {
    if (input_pos_ == input_size_ && !file_ended_) {
      const ssize_t n = read_fully(fd_.get(), input_.get(), kZstdInputBytes);
      if (n < 0) {
        error_ = absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path_));
        return;
      }
      input_offset_ += input_size_;
      input_pos_ = 0;
      input_size_ = static_cast<size_t>(n);
      if (input_size_ < kZstdInputBytes) file_ended_ = true;
    }
    if (input_pos_ == input_size_ && file_ended_ && !in_frame_) {
      input_ended_ = true;
      return;
    }
    const bool had_input = input_pos_ < input_size_;
    ZSTD_inBuffer in{input_.get(), input_size_, input_pos_};
    ZSTD_outBuffer out{buffer_.get() + filled_, capacity_ - filled_, 0};
    const size_t result = ZSTD_decompressStream(dctx_.get(), &out, &in);
    input_pos_ = in.pos;
    filled_ += out.pos;
    if (ZSTD_isError(result)) {
      error_ = absl::DataLossError(absl::StrCat("corrupt zstd data in ", path_, " near byte ",
                                                input_offset_ + input_pos_, " (after ", returned_bytes_ + filled_,
                                                " decompressed bytes): ", ZSTD_getErrorName(result)));
      return;
    }
    // 0: the frame is complete and flushed; the next byte starts a new one.
    in_frame_ = result != 0;
    // Called with room to write and no input left, a frame that produced
    // nothing more is waiting for bytes the file does not have.
    if (in_frame_ && file_ended_ && !had_input && out.pos == 0) {
      error_ = absl::DataLossError(absl::StrCat("truncated zstd data in ", path_,
                                                ": the file ends inside a frame at byte ", input_offset_ + input_size_,
                                                " (after ", returned_bytes_ + filled_, " decompressed bytes)"));
      return;
    }
  }
}

absl::StatusOr<uint64_t> jsonl_content_bytes(const std::string& path) {
  if (is_zstd_path(path)) {
    absl::StatusOr<JsonlReader> reader = JsonlReader::open(path);
    if (!reader.ok()) return reader.status();
    uint64_t bytes = 0;
    for (;;) {
      absl::StatusOr<std::string_view> block = reader->next_block();
      if (!block.ok()) return block.status();
      if (block->empty()) return bytes;
      bytes += block->size();
    }
  }
  absl::StatusOr<FileDescriptor> fd = open_file_for_reading(path);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
  // Back from the end to the last '\n', a chunk at a time.
  char chunk[4096];
  uint64_t end = static_cast<uint64_t>(st.st_size);
  while (end > 0) {
    const uint64_t begin = end > sizeof(chunk) ? end - sizeof(chunk) : 0;
    const size_t want = static_cast<size_t>(end - begin);
    const ssize_t n = pread_fully(fd->get(), chunk, want, begin);
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
    // Shorter than fstat said: the file shrank meanwhile; look at what is there.
    if (const void* newline = ::memrchr(chunk, '\n', static_cast<size_t>(n)); newline != nullptr) {
      return begin + static_cast<uint64_t>(static_cast<const char*>(newline) - chunk) + 1;
    }
    end = begin;
  }
  return 0;
}

}  // namespace ringtail::reader
