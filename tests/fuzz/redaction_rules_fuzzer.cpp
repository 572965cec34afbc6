// libFuzzer target: a redaction rules file (`drain --redact-rules`), and the
// value scrubbing every string goes through. The input is parsed as a rules
// file; accepted rules build a Redactor that is asked for the rule of keys
// cut from the input. Independently, the input as a value must scrub to
// itself unless holds_credentials() says otherwise.
//
// Built and run by tests/fuzz/run_fuzzer.cmake (the fuzz.redaction_rules ctest).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ringtail/reader/output/redaction.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<ringtail::reader::RedactionRule>> rules = ringtail::reader::parse_redaction_rules(input);
  if (rules.ok()) {
    const ringtail::reader::Redactor redactor(std::move(*rules), /*default_rules=*/true,
                                              [](std::string_view text) { return std::string(text.substr(0, 32)); });
    // Keys: the input's lines and words, as a producer might name fields.
    size_t start = 0;
    for (size_t i = 0; i <= input.size(); ++i) {
      if (i == input.size() || input[i] == '\n' || input[i] == ' ') {
        (void)redactor.rule_for(input.substr(start, i - start));
        start = i + 1;
      }
    }
  }
  std::string scratch;
  const std::string_view scrubbed = ringtail::reader::scrub_credentials(input, scratch);
  if (!ringtail::reader::holds_credentials(input) && scrubbed != input) __builtin_trap();
  (void)ringtail::reader::utf8_length(scrubbed);
  return 0;
}
