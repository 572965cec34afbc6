// Reading back what `ringtail drain` stored under a directory (see
// reader/storage/store_names.hpp): the data files, plain, "-open" or compressed,
// and their text. Indexes and other files are left out.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "ringtail/reader/storage/jsonl_reader.hpp"
#include "ringtail/reader/storage/store_names.hpp"

namespace ringtail::test {

// The data files under `dir`, sorted by path.
inline std::vector<std::filesystem::path> stored_data_files(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    // What the drain wrote: regular files, never a link (a test may plant one).
    if (!std::filesystem::is_regular_file(it->symlink_status())) continue;
    const auto name = reader::parse_stored_file_name(it->path().filename().string());
    if (name && name->kind != reader::StoredFileName::Kind::kIndex) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A data file's text (decompressed), complete lines only, into `text`; false
// if the file is gone (a running drain renamed it when it closed or
// compressed it). Any other failure to read it is a test failure.
inline bool read_stored_text_if_present(const std::filesystem::path& path, std::string* text) {
  text->clear();
  absl::StatusOr<reader::JsonlReader> file = reader::JsonlReader::open(path.string());
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) return false;
    ADD_FAILURE() << file.status();
    return true;
  }
  for (;;) {
    absl::StatusOr<std::string_view> block = file->next_block();
    if (!block.ok()) {
      ADD_FAILURE() << block.status();
      break;
    }
    if (block->empty()) break;
    text->append(*block);
  }
  return true;
}

// A data file's text; a missing file is a test failure.
inline std::string read_stored_text(const std::filesystem::path& path) {
  std::string text;
  if (!read_stored_text_if_present(path, &text)) ADD_FAILURE() << path << " is gone";
  return text;
}

// Every data file's text, in path order. A file renamed between the listing
// and its read means the listing is stale: it is taken again.
inline std::vector<std::string> read_stored_texts(const std::string& dir) {
  constexpr int kListings = 100;
  std::vector<std::string> texts;
  for (int listing = 0; listing < kListings; ++listing) {
    texts.clear();
    bool complete = true;
    for (const std::filesystem::path& path : stored_data_files(dir)) {
      std::string text;
      if (!read_stored_text_if_present(path, &text)) {
        complete = false;
        break;
      }
      texts.push_back(std::move(text));
    }
    if (complete) return texts;
  }
  ADD_FAILURE() << "the files of " << dir << " kept vanishing while read";
  return texts;
}

// Every line of every data file, in path order, without their newlines.
inline std::vector<std::string> read_stored_lines(const std::string& dir) {
  std::vector<std::string> lines;
  for (const std::string& text : read_stored_texts(dir)) {
    size_t at = 0;
    while (at < text.size()) {
      const size_t end = std::min(text.find('\n', at), text.size());
      lines.emplace_back(text, at, end - at);
      at = end + 1;
    }
  }
  return lines;
}

}  // namespace ringtail::test
