// libFuzzer target: a stored file, as query, stats and export read it. The
// input is written once as a plain .jsonl file and once as a .jsonl.zst
// file (so that the zstd decoder meets arbitrary frames), and each is read
// to its end with small blocks: every block must be whole lines, the blocks
// and the cut tail must account for every byte of a plain file, and no input
// may crash, hang or make the reader hold more than a bounded buffer.
//
// Built and run by tests/fuzz/run_fuzzer.cmake (the fuzz.jsonl ctest).
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ringtail/reader/storage/jsonl_reader.hpp"

namespace {

std::string scratch_dir() {
  static const std::string dir = [] {
    char path[] = "/tmp/ringtail-jsonl-fuzz-XXXXXX";
    if (::mkdtemp(path) == nullptr) std::abort();
    return std::string(path);
  }();
  return dir;
}

void write_file(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

// Reads `path` to its end; the bytes of the blocks returned.
uint64_t read_all(const std::string& path) {
  absl::StatusOr<ringtail::reader::JsonlReader> reader = ringtail::reader::JsonlReader::open(path, 64);
  if (!reader.ok()) return 0;
  uint64_t bytes = 0;
  for (int blocks = 0; blocks < 1'000'000; ++blocks) {
    absl::StatusOr<std::string_view> block = reader->next_block();
    if (!block.ok() || block->empty()) break;
    if (block->back() != '\n') __builtin_trap();  // whole lines only
    bytes += block->size();
  }
  return bytes + reader->truncated_tail_bytes();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string plain = scratch_dir() + "/svc-1-info-20261205T000000Z-1.jsonl";
  write_file(plain, input);
  if (read_all(plain) != input.size()) __builtin_trap();  // every byte is a line or the cut tail
  const std::string compressed = plain + ".zst";
  write_file(compressed, input);
  (void)read_all(compressed);
  return 0;
}
