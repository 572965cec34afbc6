#include "store_verbs.hpp"

#include <algorithm>
#include <cstdio>

#include "common.hpp"

namespace ringtail::cli {

void add_store_source(CLI::App* verb, std::string& directory, std::string& engine) {
  verb->add_option("DIR", directory, "The directory drain writes (--out); or give --engine")
      ->check(CLI::ExistingDirectory);
  verb->add_option("--engine", engine,
                   "Ask ClickHouse instead of DIR: clickhouse://HOST[:PORT]/DATABASE[?table=T&user=U&password_file=F] "
                   "(the table drain --sink clickhouse:// fills; same filters, same answers, computed in SQL)")
      ->type_name("URI");
}

std::optional<reader::ClickHouseTarget> engine_target(const std::string& directory, const std::string& engine) {
  if (directory.empty() == engine.empty()) {
    usage_error(directory.empty() ? "give the directory drain writes (DIR) or --engine clickhouse://HOST/DATABASE"
                                  : "give DIR or --engine, not both");
  }
  if (engine.empty()) return std::nullopt;
  absl::StatusOr<reader::ClickHouseTarget> target =
      reader::parse_clickhouse_uri(engine, "--engine", reader::kQueryTimeout);
  if (!target.ok()) usage_error(std::string{target.status().message()});
  return std::move(*target);
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string out;
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 2, ' ');
    }
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
}

std::string unquoted(const std::string& json_text) {
  if (json_text.size() >= 2 && json_text.front() == '"' && json_text.back() == '"') {
    return json_text.substr(1, json_text.size() - 2);
  }
  return json_text;
}

void report_line(std::string_view line) {
  erase_progress_then([line] { print_error(line); });
}

reader::ProgressCallback scan_progress(ProgressMeter& meter) {
  return [&meter](const reader::ScanProgress& scan) {
    ProgressCounts counts;
    counts.done = scan.disk_bytes_done;
    counts.total = scan.disk_bytes;
    counts.items_done = scan.files_done;
    counts.items_total = scan.files;
    counts.items_noun = "files";
    meter.update(counts);
  };
}

std::optional<std::vector<reader::StoredFile>> list_store(const std::string& directory, bool use_indexes) {
  reader::CatalogOptions catalog;
  catalog.use_indexes = use_indexes;
  catalog.report = report_line;
  absl::StatusOr<std::vector<reader::StoredFile>> files = reader::list_stored_files(directory, catalog);
  if (!files.ok()) {
    print_error(std::string{files.status().message()});
    return std::nullopt;
  }
  return std::move(*files);
}

int scan_store(const std::string& directory, const reader::Filter& filter, bool ordered, bool use_indexes,
               const reader::LineCallback& emit, const ProgressChoice& progress,
               const reader::LinePrefilter& prefilter) {
  const std::optional<std::vector<reader::StoredFile>> files = list_store(directory, use_indexes);
  if (!files) return kExitRuntime;
  reader::Scanner scanner(filter, report_line);
  if (prefilter) scanner.set_prefilter(prefilter);
  // From here: the rate is the scan's, not the listing's.
  const std::unique_ptr<ProgressMeter> meter = start_progress(progress, ProgressUnit::kBytes);
  if (meter) scanner.set_progress(scan_progress(*meter));
  absl::Status status = ordered ? scanner.scan_ordered(*files, emit) : scanner.scan_unordered(*files, emit);
  if (meter) meter->finish();
  if (!status.ok()) {
    print_error(std::string{status.message()});
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace ringtail::cli
