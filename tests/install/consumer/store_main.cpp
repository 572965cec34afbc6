// Uses ringtail::store through an installed ringtail: a JSONL file written,
// compressed and read back, and a StoreMaintainer run over its directory,
// with only what the imported target passes on (run_consumer.cmake also
// checks that no installed header includes a privately linked library).
// Exits 0 only if the lines come back as written.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include <ringtail/reader/storage/compress_file.hpp>
#include <ringtail/reader/storage/jsonl_reader.hpp>
#include <ringtail/reader/storage/store_maintainer.hpp>

namespace {

int check(const std::filesystem::path& dir) {
  const std::string lines = "{\"n\":1}\n{\"n\":2}\n";
  const std::string plain = (dir / "consumer.jsonl").string();
  std::ofstream(plain) << lines;
  if (const absl::Status status = ringtail::reader::compress_file(plain, plain + ".zst"); !status.ok()) {
    std::fprintf(stderr, "compress_file: %s\n", status.ToString().c_str());
    return 1;
  }
  absl::StatusOr<ringtail::reader::JsonlReader> reader = ringtail::reader::JsonlReader::open(plain + ".zst");
  if (!reader.ok()) {
    std::fprintf(stderr, "JsonlReader::open: %s\n", reader.status().ToString().c_str());
    return 1;
  }
  std::string read;
  for (;;) {
    absl::StatusOr<std::string_view> block = reader->next_block();
    if (!block.ok()) {
      std::fprintf(stderr, "next_block: %s\n", block.status().ToString().c_str());
      return 1;
    }
    if (block->empty()) break;
    read.append(*block);
  }
  if (read != lines) {
    std::fprintf(stderr, "read back '%s', not '%s'\n", read.c_str(), lines.c_str());
    return 1;
  }
  ringtail::reader::StoreMaintainerOptions options;
  options.directory = dir.string();
  ringtail::reader::StoreMaintainer maintainer(std::move(options));
  maintainer.wait_idle();
  std::printf("store: ok\n");
  return 0;
}

}  // namespace

int main() {
  std::error_code error;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ringtail-consumer-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::fprintf(stderr, "cannot create %s: %s\n", dir.c_str(), error.message().c_str());
    return 1;
  }
  const int rc = check(dir);
  std::filesystem::remove_all(dir, error);
  return rc;
}
