// A temporary directory for a test, made under $TMPDIR (mkdtemp) and removed
// with everything in it when the TempDir goes. path() is empty if it could
// not be made (the test then fails on its first use of it).
//
//   ringtail::test::TempDir dir("export-test");
//   const std::string db = dir / "events.db";
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace ringtail::test {

class TempDir {
 public:
  // `name`: the directory's prefix, "ringtail-" + name + "-XXXXXX".
  explicit TempDir(std::string_view name) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("ringtail-" + std::string(name) + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory.
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace ringtail::test
