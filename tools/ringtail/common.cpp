#include "common.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ringtail/reader/output/terminal_text.hpp"
#include "ringtail/shm/errno_text.hpp"
#include "ringtail/shm/level.hpp"

namespace ringtail::cli {

void print_error(std::string_view message) {
  std::string folded(message);
  std::replace(folded.begin(), folded.end(), '\n', ' ');
  // Messages quote segment and store text (service names, file names): one inert line.
  std::string line = absl::StrCat("ringtail: ", reader::terminal_safe(folded));
  line.push_back('\n');
  std::fflush(stdout);  // keep the order of what is already on stdout
  std::fputs(line.c_str(), stderr);
}

std::string segment_error_text(std::string_view name, const absl::Status& status) {
  std::string_view message(status.message().data(), status.message().size());
  const std::string prefix = absl::StrCat("segment /dev/shm/", std::string(name), ": ");
  if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  return std::string(message);
}

void print_segment_error(std::string_view name, const absl::Status& status) {
  print_error(absl::StrCat(std::string(name), ": ", segment_error_text(name, status)));
}

void finish(int code) {
  errno = 0;
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  const int error = errno;
  // EPIPE: whoever read our output went away (`ringtail tail | head`): not an error of ours.
  if (failed && error != EPIPE) {
    print_error(error != 0 ? absl::StrCat("cannot write to stdout: ", shm::errno_text(error))
                           : "cannot write to stdout");
    if (code == kExitOk) code = kExitRuntime;
  }
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the verbs end here, once; no other thread calls exit.
  std::exit(code);
}

void usage_error(const std::string& message) { throw CLI::ValidationError(message); }

CLI::Validator pid_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 10 &&
                            std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
        const unsigned long long value = digits ? std::strtoull(text.c_str(), nullptr, 10) : 0;
        if (!digits || value < 1 || value > static_cast<unsigned long long>(std::numeric_limits<pid_t>::max())) {
          return "'" + text + "' is not a process id";
        }
        text = std::to_string(value);
        return "";
      },
      "");
}

CLI::Validator level_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (!shm::parse_level(text).has_value()) {
          return absl::StrCat("'", text, "' is not a level (", std::string(shm::kLevelWords), ")");
        }
        return "";
      },
      "");
}

std::string level_name(uint32_t level) {
  if (shm::is_level(level)) return std::string(shm::level_name(static_cast<shm::Level>(level)));
  return absl::StrCat("LEVEL(", level, ")");
}

std::string printable(std::string_view bytes) {
  if (bytes.empty()) return "-";
  return reader::terminal_safe(bytes);
}

}  // namespace ringtail::cli
