#include "redaction_flags.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common.hpp"
#include "ringtail/reader/output/hash_key.hpp"

namespace ringtail::cli {
namespace {

[[noreturn]] void runtime_error(const std::string& message) {
  print_error(message);
  finish(kExitRuntime);
}

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) runtime_error(absl::StrCat("cannot read the ", what, " ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The key of the hash rules (the choice the header describes).
std::string hash_key(const RedactionFlags& flags, const std::string& store_directory) {
  if (!flags.hash_key_file.empty()) {
    absl::StatusOr<std::string> key = reader::read_hash_key_file(flags.hash_key_file);
    if (key.status().code() == absl::StatusCode::kInvalidArgument) {
      usage_error(absl::StrCat("--hash-key-file ", flags.hash_key_file, " is empty"));
    }
    if (!key.ok()) runtime_error(std::string{key.status().message()});
    return *std::move(key);
  }
  absl::StatusOr<std::string> key =
      store_directory.empty() ? reader::random_hash_key() : reader::store_hash_key(store_directory);
  if (!key.ok()) runtime_error(std::string{key.status().message()});
  return *std::move(key);
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
    if (!rule.ok()) usage_error(absl::StrCat("--", action, ": ", rule.status().message()));
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
    if (!file.ok()) usage_error(absl::StrCat(flags.rules_file, ": ", file.status().message()));
    rules.insert(rules.end(), file->begin(), file->end());
  }
  const bool hashes = std::any_of(rules.begin(), rules.end(), [](const reader::RedactionRule& r) {
    return r.action == reader::RedactionRule::Action::kHash;
  });
  // Without hash rules the key is never used: no file read, no key made in the store.
  std::string key = hashes ? hash_key(flags, store_directory) : std::string();
  return std::make_shared<const reader::Redactor>(std::move(rules), !flags.no_defaults,
                                                  reader::hmac_sha256(std::move(key)));
}

}  // namespace ringtail::cli
