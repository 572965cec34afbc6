// libFuzzer target: sampling rules (RINGTAIL_SAMPLE, `ringtail sample`, and
// the text a reader may write into a segment's header for the producer to
// parse). parse_sample_rules() must answer every text; accepted rules give
// keep words in range and stay accepted after a trip through a header's
// seqlocked text area.
//
// Built and run by tests/fuzz/run_fuzzer.cmake (the fuzz.sample_rules ctest).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "ringtail/shm/layout.hpp"
#include "ringtail/shm/sample_rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ringtail::shm::SampleRules> rules = ringtail::shm::parse_sample_rules(input);
  if (!rules.ok()) return 0;
  for (const ringtail::shm::SampleRule& rule : rules->rules) {
    if (!(rule.rate >= 0.0 && rule.rate <= 1.0)) __builtin_trap();
    if (rule.keep != ringtail::shm::keep_word(rule.rate)) __builtin_trap();
  }
  for (int level = 0; level <= 5; ++level) {
    (void)ringtail::shm::keep_for(*rules, static_cast<ringtail::shm::Level>(level), input, input, 1);
  }
  auto header = std::make_unique<ringtail::shm::SegmentHeader>();
  if (ringtail::shm::store_sample_rules_text(*header, input).ok()) {
    absl::StatusOr<std::string> back = ringtail::shm::load_sample_rules_text(*header);
    if (!back.ok() || *back != input || !ringtail::shm::parse_sample_rules(*back).ok()) __builtin_trap();
  }
  return 0;
}
