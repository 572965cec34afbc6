#include "redaction_flags.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/storage/store_dir.hpp"

namespace ringtail::cli {
namespace {

constexpr size_t kKeyBytes = 32;

[[noreturn]] void runtime_error(const std::string& message) {
  print_error(message);
  finish(kExitRuntime);
}

std::string random_key() {
  std::string key(kKeyBytes, '\0');
  size_t done = 0;
  while (done < key.size()) {
    const ssize_t n = ::getrandom(key.data() + done, key.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) runtime_error(absl::StrCat("cannot get random bytes for the hash key: ", std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
  return key;
}

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) runtime_error(absl::StrCat("cannot read the ", what, " ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// DIR/.ringtail-hash-key: read, or made (0600, exclusively: two drains
// starting at once agree on one key). Never through a symbolic link: a key
// that is not a regular file is an error.
std::string store_key(const std::string& directory) {
  constexpr std::string_view kName = ".ringtail-hash-key";
  absl::StatusOr<reader::StoreDir> dir = reader::StoreDir::create(directory, 0750);
  if (!dir.ok()) runtime_error(std::string(dir.status().message()));
  const std::string path = dir->path_of(kName);
  absl::StatusOr<reader::FileDescriptor> created = dir->create_file(kName, O_WRONLY, 0600);
  if (created.ok()) {
    const std::string key = random_key();
    const bool written = ::write(created->get(), key.data(), key.size()) == static_cast<ssize_t>(key.size());
    if (created->close() != 0 || !written) runtime_error(absl::StrCat("cannot write the hash key ", path));
    return key;
  }
  if (created.status().code() != absl::StatusCode::kAlreadyExists) {
    runtime_error(absl::StrCat("cannot create the hash key: ", std::string(created.status().message())));
  }
  absl::StatusOr<reader::FileDescriptor> existing = dir->open_file(kName, O_RDONLY);
  if (!existing.ok())
    runtime_error(absl::StrCat("cannot read the hash key: ", std::string(existing.status().message())));
  std::string key;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(existing->get(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) runtime_error(absl::StrCat("cannot read the hash key ", path, ": ", std::strerror(errno)));
    if (n == 0) break;
    key.append(chunk, static_cast<size_t>(n));
  }
  if (key.empty()) runtime_error(absl::StrCat("the hash key ", path, " is empty"));
  return key;
}

void add_rules(std::vector<reader::RedactionRule>& rules, const std::vector<std::string>& values, const char* action,
               bool with_count) {
  for (const std::string& value : values) {
    std::string line = absl::StrCat(action, " ", value);
    if (with_count) {
      const size_t eq = value.rfind('=');
      if (eq == std::string::npos) usage_error(absl::StrCat("--", action, " '", value, "': give KEY=N"));
      line = absl::StrCat(action, " ", value.substr(0, eq), " ", value.substr(eq + 1));
    }
    absl::StatusOr<reader::RedactionRule> rule = reader::parse_redaction_rule(line);
    if (!rule.ok()) usage_error(absl::StrCat("--", action, ": ", std::string(rule.status().message())));
    rules.push_back(*rule);
  }
}

}  // namespace

void add_redaction_flags(CLI::App* app, RedactionFlags& flags) {
  app->add_option("--redact", flags.redact, "Write values of these keys as \"***REDACTED***\" (glob, repeatable)")
      ->type_name("KEY");
  app->add_option("--hash", flags.hash, "Write a keyed hash of these keys' values (equal values correlate)")
      ->type_name("KEY");
  app->add_option("--truncate", flags.truncate, "Cut these keys' strings to N characters (marked in _cut)")
      ->type_name("KEY=N");
  app->add_option("--keep-ends", flags.keep_ends, "Keep only the first and last N characters of these keys' strings")
      ->type_name("KEY=N");
  app->add_option("--redaction-rules", flags.rules_file,
                  "Rules file: lines 'redact KEY', 'hash KEY', 'truncate KEY N', "
                  "'keep-ends KEY N'")
      ->type_name("FILE");
  app->add_option("--hash-key-file", flags.hash_key_file, "Secret key of --hash (default: drain keeps one in DIR)")
      ->type_name("FILE");
  app->add_flag("--no-default-redaction", flags.no_defaults,
                "Do not redact secret keys (password, token, api_key, ...) nor cut credentials out of strings "
                "by default");
}

std::shared_ptr<const reader::Redactor> make_redactor(const RedactionFlags& flags, const std::string& store_directory) {
  std::vector<reader::RedactionRule> rules;
  // Flags first: they win over the file.
  add_rules(rules, flags.redact, "redact", false);
  add_rules(rules, flags.hash, "hash", false);
  add_rules(rules, flags.truncate, "truncate", true);
  add_rules(rules, flags.keep_ends, "keep-ends", true);
  if (!flags.rules_file.empty()) {
    absl::StatusOr<std::vector<reader::RedactionRule>> file =
        reader::parse_redaction_rules(read_file(flags.rules_file, "redaction rules"));
    if (!file.ok()) usage_error(absl::StrCat(flags.rules_file, ": ", std::string(file.status().message())));
    rules.insert(rules.end(), file->begin(), file->end());
  }
  const bool hashes = std::any_of(rules.begin(), rules.end(), [](const reader::RedactionRule& r) {
    return r.action == reader::RedactionRule::Action::kHash;
  });
  std::string key;
  if (hashes) {
    if (!flags.hash_key_file.empty()) {
      key = read_file(flags.hash_key_file, "hash key");
      if (key.empty()) usage_error(absl::StrCat("--hash-key-file ", flags.hash_key_file, " is empty"));
    } else {
      key = store_directory.empty() ? random_key() : store_key(store_directory);
    }
  }
  reader::Redactor::KeyedHash hmac = [key](std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    ::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
           text.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
  };
  return std::make_shared<const reader::Redactor>(std::move(rules), !flags.no_defaults, std::move(hmac));
}

}  // namespace ringtail::cli
