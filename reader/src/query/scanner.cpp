#include "ringtail/reader/query/scanner.hpp"

#include <string.h>

#include <cstring>

#include <algorithm>
#include <memory>
#include <optional>
#include <queue>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/query/parsed_line.hpp"
#include "ringtail/reader/storage/jsonl_reader.hpp"

namespace ringtail::reader {
namespace {}  // namespace

class Scanner::Cursor {
 public:
  Cursor(Scanner& scanner, const StoredFile& file, size_t order) : s_(scanner), file_(file), order_(order) {
#ifdef SIMDJSON_THREADS_ENABLED
    // One batch per block: a stage-1 thread would only add a thread start per block.
    stream_parser_.threaded = false;
#endif
  }

  // Opens the file; false (reported) if it cannot be read.
  bool open() {
    absl::StatusOr<JsonlReader> reader = JsonlReader::open(file_.path);
    if (!reader.ok()) {
      s_.report_(absl::StrCat(file_.path, ": ", reader.status().message(), "; skipped"));
      ++s_.stats_.damaged_files;
      file_done();
      return false;
    }
    reader_.emplace(std::move(*reader));
    ++s_.stats_.files_read;
    return true;
  }

  // The next line that passes the filter; false at the end of the file.
  bool next() {
    const Filter& filter = s_.filter_;
    const std::string& needle = s_.needle_;
    for (;;) {
      if (streaming_) {
        if (next_streamed()) return true;
        continue;
      }
      if (at_ >= block_.size()) {
        if (!next_block()) return false;
        // Without a needle nearly every line is parsed: parse the block as
        // one stream (simdjson's per-document setup dominates for short lines).
        // A prefilter looks at each line's text first: line by line.
        if (needle.empty() && !s_.prefilter_) start_stream();
        continue;
      }
      const char* data = block_.data();
      size_t begin = at_;
      if (!needle.empty()) {
        const void* hit = ::memmem(data + at_, block_.size() - at_, needle.data(), needle.size());
        if (hit == nullptr) {
          at_ = block_.size();
          continue;
        }
        const char* at_hit = static_cast<const char*>(hit);
        const void* newline = ::memrchr(data + at_, '\n', static_cast<size_t>(at_hit - (data + at_)));
        begin = newline == nullptr ? at_ : static_cast<size_t>(static_cast<const char*>(newline) - data) + 1;
      }
      // Blocks hold complete lines: a '\n' always follows.
      const char* end = static_cast<const char*>(::memchr(data + begin, '\n', block_.size() - begin));
      const size_t stop = end == nullptr ? block_.size() : static_cast<size_t>(end - data);
      at_ = stop + 1;
      const std::string_view raw = block_.substr(begin, stop - begin);
      if (!filter.may_match(raw)) continue;
      if (s_.prefilter_ && !s_.prefilter_(raw)) continue;
      ++s_.stats_.lines_parsed;
      if (parser_.parse(raw.data(), raw.size()).get(line_) != simdjson::SUCCESS || !line_.is_object()) {
        ++s_.stats_.bad_lines;
        if (!bad_reported_) {
          bad_reported_ = true;
          s_.report_(
              absl::StrCat(file_.path, ": a line that is not a JSON object was skipped (reported once per file)"));
        }
        continue;
      }
      if (!filter.matches(line_)) continue;
      ++s_.stats_.lines_matched;
      raw_ = raw;
      std::string_view timestamp;
      timestamp_ = line_["timestamp"].get(timestamp) == simdjson::SUCCESS ? timestamp : std::string_view();
      return true;
    }
  }

  // Stream mode: the next passing document of the block's stream; false
  // when the stream is done (streaming_ off, at_ where per-line reading
  // goes on: the block's end, or the line where the stream met something it
  // could not take as one whole-line object).
  bool next_streamed() {
    if (advance_pending_) {
      ++it_;
      advance_pending_ = false;
    }
    while (it_ != end_) {
      const size_t index = it_.current_index();
      simdjson::dom::element element;
      if ((*it_).get(element) != simdjson::SUCCESS || !element.is_object()) return stop_stream(index);
      const std::string_view raw = it_.source();
      const size_t end = index + raw.size();
      // One object per line, nothing else on it: otherwise per-line reading decides.
      if ((index != 0 && block_[index - 1] != '\n') || end >= block_.size() || block_[end] != '\n') {
        return stop_stream(index);
      }
      ++s_.stats_.lines_parsed;
      if (s_.filter_.matches(element)) {
        ++s_.stats_.lines_matched;
        line_ = element;
        raw_ = block_.substr(index, raw.size());
        std::string_view timestamp;
        timestamp_ = line_["timestamp"].get(timestamp) == simdjson::SUCCESS ? timestamp : std::string_view();
        advance_pending_ = true;
        return true;
      }
      ++it_;
    }
    return stop_stream(block_.size());
  }

  bool stop_stream(size_t at) {
    streaming_ = false;
    advance_pending_ = false;
    // Back to the start of the line holding `at`.
    const void* newline = at == 0 ? nullptr : ::memrchr(block_.data(), '\n', at);
    at_ = at >= block_.size()  ? block_.size()
          : newline == nullptr ? 0
                               : static_cast<size_t>(static_cast<const char*>(newline) - block_.data()) + 1;
    return false;
  }

  void start_stream() {
    if (padded_capacity_ < block_.size()) {
      padded_capacity_ = block_.size();
      padded_ = std::make_unique<char[]>(padded_capacity_ + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(padded_.get(), block_.data(), block_.size());
    std::memset(padded_.get() + block_.size(), 0, simdjson::SIMDJSON_PADDING);
    stream_.reset();
    simdjson::dom::document_stream stream;
    if (stream_parser_.parse_many(padded_.get(), block_.size(), std::max<size_t>(block_.size(), size_t{1} << 20))
            .get(stream) != simdjson::SUCCESS) {
      return;  // per-line reading
    }
    stream_.emplace(std::move(stream));
    it_ = stream_->begin();
    end_ = stream_->end();
    streaming_ = true;
    advance_pending_ = false;
  }

  std::string_view raw() const { return raw_; }
  simdjson::dom::element line() const { return line_; }
  std::string_view timestamp() const { return timestamp_; }
  size_t order() const { return order_; }

 private:
  bool next_block() {
    if (!reader_) return false;
    absl::StatusOr<std::string_view> block = reader_->next_block();
    if (!block.ok()) {
      s_.report_(absl::StrCat(file_.path, ": ", block.status().message(), "; the rest of the file is skipped"));
      ++s_.stats_.damaged_files;
      reader_.reset();
      file_done();
      return false;
    }
    if (block->empty()) {
      // An open file may end in a line being written; a closed one should not.
      if (reader_->truncated_tail_bytes() != 0 && !file_.open()) {
        s_.report_(absl::StrCat(file_.path, ": its last line is cut short (", reader_->truncated_tail_bytes(),
                                " bytes without a newline) and was skipped"));
      }
      reader_.reset();
      file_done();
      return false;
    }
    s_.stats_.bytes_read += block->size();
    if (!reader_->compressed()) credit(block->size());
    block_ = *block;
    at_ = 0;
    return true;
  }

  // Progress: `bytes` more of the file on disk are done (never more than its listed size).
  void credit(uint64_t bytes) {
    const uint64_t room = file_.disk_bytes > credited_ ? file_.disk_bytes - credited_ : 0;
    bytes = std::min(bytes, room);
    credited_ += bytes;
    s_.progress_.disk_bytes_done += bytes;
    s_.report_progress();
  }
  // Progress: the file is done (read to its end, or unreadable); once.
  void file_done() {
    if (done_) return;
    done_ = true;
    ++s_.progress_.files_done;
    credit(file_.disk_bytes);
  }

  Scanner& s_;
  const StoredFile& file_;
  size_t order_;
  std::optional<JsonlReader> reader_;
  std::string_view block_;
  size_t at_ = 0;
  simdjson::dom::parser parser_;
  simdjson::dom::element line_;
  // Stream mode (no needle): the block, padded as simdjson needs, parsed as
  // a stream of documents by a parser of its own.
  std::unique_ptr<char[]> padded_;
  size_t padded_capacity_ = 0;
  simdjson::dom::parser stream_parser_;
  std::optional<simdjson::dom::document_stream> stream_;
  simdjson::dom::document_stream::iterator it_;
  simdjson::dom::document_stream::iterator end_;
  bool streaming_ = false;
  bool advance_pending_ = false;
  std::string_view raw_;
  std::string_view timestamp_;
  bool bad_reported_ = false;
  uint64_t credited_ = 0;  // progress: bytes of the file counted done
  bool done_ = false;      // progress: the file counted done
};

Scanner::Scanner(const Filter& filter, std::function<void(std::string_view)> report)
    : filter_(filter), report_(std::move(report)) {
  if (!report_) report_ = [](std::string_view) {};
  for (const WhereClause& clause : filter_.clauses()) {
    if (clause.needle() && clause.needle()->size() > needle_.size()) needle_ = *clause.needle();
  }
}

void Scanner::start_progress(const std::vector<const StoredFile*>& files) {
  progress_ = ScanProgress{};
  progress_.files = files.size();
  for (const StoredFile* file : files) progress_.disk_bytes += file->disk_bytes;
  report_progress();
}

absl::Status Scanner::scan_unordered(const std::vector<StoredFile>& files, const LineCallback& emit) {
  std::vector<const StoredFile*> pending;
  for (const StoredFile& file : files) {
    ++stats_.files;
    if (file.index && index_excludes(*file.index, filter_)) {
      ++stats_.files_skipped;
      continue;
    }
    pending.push_back(&file);
  }
  start_progress(pending);
  for (size_t i = 0; i < pending.size(); ++i) {
    Cursor cursor(*this, *pending[i], i);
    if (!cursor.open()) continue;
    while (cursor.next()) {
      if (!emit(cursor.raw(), cursor.line())) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status Scanner::scan_ordered(const std::vector<StoredFile>& files, const LineCallback& emit) {
  // Files by the lowest timestamp they can hold (from the index; a file
  // without one is opened at once).
  std::vector<const StoredFile*> pending;
  for (const StoredFile& file : files) {
    ++stats_.files;
    if (file.index && index_excludes(*file.index, filter_)) {
      ++stats_.files_skipped;
      continue;
    }
    pending.push_back(&file);
  }
  start_progress(pending);
  auto lower_bound = [](const StoredFile* file) -> std::string_view {
    return file->index ? std::string_view{file->index->first_timestamp} : std::string_view();
  };
  std::stable_sort(pending.begin(), pending.end(),
                   [&](const StoredFile* a, const StoredFile* b) { return lower_bound(a) < lower_bound(b); });

  std::vector<std::unique_ptr<Cursor>> cursors;
  auto later = [](const Cursor* a, const Cursor* b) {
    return a->timestamp() != b->timestamp() ? a->timestamp() > b->timestamp() : a->order() > b->order();
  };
  std::priority_queue<Cursor*, std::vector<Cursor*>, decltype(later)> heap(later);
  size_t next_file = 0;
  for (;;) {
    // Every file that may hold a line before the merge's next one is open.
    while (next_file < pending.size() && (heap.empty() || lower_bound(pending[next_file]) <= heap.top()->timestamp())) {
      cursors.push_back(std::make_unique<Cursor>(*this, *pending[next_file], next_file));
      Cursor* cursor = cursors.back().get();
      ++next_file;
      if (cursor->open() && cursor->next()) heap.push(cursor);
    }
    if (heap.empty()) break;
    Cursor* top = heap.top();
    heap.pop();
    if (!emit(top->raw(), top->line())) break;
    if (top->next()) heap.push(top);
  }
  return absl::OkStatus();
}

}  // namespace ringtail::reader
