// Where the project's binaries are, for tests that run the tools as
// processes: $RINGTAIL_TEST_BIN_DIR (ctest sets it), else the build
// directory this test binary sits in (<build>/tests/<suite>/<binary>).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace ringtail::test {

inline std::string bin_dir() {
  if (const char* dir = std::getenv("RINGTAIL_TEST_BIN_DIR"); dir != nullptr && *dir != '\0') return dir;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return self.parent_path().parent_path().parent_path().string();
}

// A tool under tools/, e.g. tool_path("ringtail").
inline std::string tool_path(std::string_view tool) { return bin_dir() + "/tools/" + std::string(tool); }

}  // namespace ringtail::test
