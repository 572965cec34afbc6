#include "ringtail/reader/report/time_buckets.hpp"

#include <algorithm>
#include <iterator>

namespace ringtail::reader {
namespace {

// Buckets merge whole only if each width is a multiple of the one before.
constexpr bool widths_nest() {
  for (size_t i = 1; i < std::size(TimeBuckets::kWidthsMs); ++i) {
    if (TimeBuckets::kWidthsMs[i] % TimeBuckets::kWidthsMs[i - 1] != 0) return false;
  }
  return TimeBuckets::kWidthsMs[0] == 1;
}
static_assert(widths_nest());

}  // namespace

int64_t TimeBuckets::index_of(int64_t time_ns) const {
  const int64_t ms = time_ns / 1'000'000 - (time_ns % 1'000'000 < 0 ? 1 : 0);
  const int64_t width = width_ms();
  return ms / width - (ms % width < 0 ? 1 : 0);
}

void TimeBuckets::add(std::string_view series, int64_t time_ns, double amount) {
  int64_t index = index_of(time_ns);
  while (!empty() && std::max(last_index_, index) - std::min(first_index_, index) + 1 > kMaxBuckets &&
         rung_ + 1 < std::size(kWidthsMs)) {
    widen();
    index = index_of(time_ns);
  }
  if (empty()) {
    first_index_ = last_index_ = index;
  } else {
    first_index_ = std::min(first_index_, index);
    last_index_ = std::max(last_index_, index);
  }
  auto found = series_.find(absl::string_view(series.data(), series.size()));
  if (found == series_.end()) found = series_.emplace(std::string(series), std::map<int64_t, double>{}).first;
  found->second[index] += amount;
}

void TimeBuckets::widen() {
  const int64_t factor = kWidthsMs[rung_ + 1] / kWidthsMs[rung_];
  ++rung_;
  const auto coarser = [factor](int64_t index) { return index / factor - (index % factor < 0 ? 1 : 0); };
  for (auto& [name, buckets] : series_) {
    std::map<int64_t, double> merged;
    for (const auto& [index, amount] : buckets) merged[coarser(index)] += amount;
    buckets = std::move(merged);
  }
  first_index_ = coarser(first_index_);
  last_index_ = coarser(last_index_);
}

std::vector<std::string> TimeBuckets::series_by_total() const {
  std::vector<std::pair<double, std::string>> totals;
  for (const auto& [name, buckets] : series_) totals.emplace_back(total(name), name);
  std::sort(totals.begin(), totals.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::vector<std::string> names;
  names.reserve(totals.size());
  for (auto& [amount, name] : totals) names.push_back(std::move(name));
  return names;
}

std::vector<double> TimeBuckets::values(std::string_view series) const {
  std::vector<double> out(bucket_count(), 0.0);
  const auto found = series_.find(absl::string_view(series.data(), series.size()));
  if (found == series_.end()) return out;
  for (const auto& [index, amount] : found->second) out[static_cast<size_t>(index - first_index_)] += amount;
  return out;
}

double TimeBuckets::total(std::string_view series) const {
  const auto found = series_.find(absl::string_view(series.data(), series.size()));
  double sum = 0;
  if (found != series_.end()) {
    for (const auto& [index, amount] : found->second) sum += amount;
  }
  return sum;
}

}  // namespace ringtail::reader
