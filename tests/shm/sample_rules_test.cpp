// shm sampling rules: the parser (good and bad items), precedence, keep_word
// at its edges, path suffixes, and the header text's seqlock (round trip,
// corrupt and stuck headers, and no torn copy under a concurrent writer).
#include "ringtail/shm/sample_rules.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringtail/shm/layout.hpp"

namespace ringtail::shm {
namespace {

SampleRules parse_ok(std::string_view text) {
  absl::StatusOr<SampleRules> rules = parse_sample_rules(text);
  EXPECT_TRUE(rules.ok()) << text << ": " << rules.status();
  return rules.ok() ? *rules : SampleRules{};
}

TEST(KeepWordTest, Edges) {
  EXPECT_EQ(keep_word(1.0), 0U);  // keep all: the hot path never samples
  EXPECT_EQ(keep_word(2.0), 0U);
  EXPECT_EQ(keep_word(0.0), 1U);  // keep none: no draw is below 0
  EXPECT_EQ(keep_word(-1.0), 1U);
  EXPECT_EQ(keep_word(std::numeric_limits<double>::quiet_NaN()), 1U);
  EXPECT_EQ(keep_word(0.5), 1U + 2147483647U);
  EXPECT_EQ(keep_word(1e-12), 1U);                             // below 2^-32: rounds down to none
  EXPECT_EQ(keep_word(std::nextafter(1.0, 0.0)), UINT32_MAX);  // the largest word, still sampling
  EXPECT_EQ(keep_fraction(0), 1.0);
  EXPECT_EQ(keep_fraction(1), 0.0);
}

TEST(KeepWordTest, FractionIsTheRateFromBelowAndMonotonic) {
  uint32_t previous = 1;
  for (int i = 1; i < 1000; ++i) {
    const double rate = i / 1000.0;
    const uint32_t word = keep_word(rate);
    EXPECT_LE(keep_fraction(word), rate);
    EXPECT_GT(keep_fraction(word), rate - std::ldexp(1.0, -31));
    EXPECT_GT(word, previous);  // a lower rate keeps a subset of a higher one's draws
    previous = word;
  }
}

TEST(SampleRulesParseTest, EmptyTextIsNoRules) {
  EXPECT_TRUE(parse_ok("").empty());
  EXPECT_TRUE(parse_ok("  \t ").empty());
}

TEST(SampleRulesParseTest, EveryKindOfItem) {
  const SampleRules rules = parse_ok("  DEBUG = 0.1 ,msg:tool call=0.25, site:src/agent.cpp:42=0,info=1, warn=.5");
  ASSERT_EQ(rules.rules.size(), 5U);
  EXPECT_EQ(rules.rules[0].kind, SampleRule::Kind::kLevel);
  EXPECT_EQ(rules.rules[0].level, Level::kDebug);
  EXPECT_DOUBLE_EQ(rules.rules[0].rate, 0.1);
  EXPECT_EQ(rules.rules[0].keep, keep_word(0.1));
  EXPECT_EQ(rules.rules[1].kind, SampleRule::Kind::kMessage);
  EXPECT_EQ(rules.rules[1].message, "tool call");
  EXPECT_EQ(rules.rules[2].kind, SampleRule::Kind::kSite);
  EXPECT_EQ(rules.rules[2].file, "src/agent.cpp");
  EXPECT_EQ(rules.rules[2].line, 42U);
  EXPECT_EQ(rules.rules[2].keep, 1U);
  EXPECT_EQ(rules.rules[3].keep, 0U);
  EXPECT_EQ(rules.rules[4].level, Level::kWarn);
  EXPECT_DOUBLE_EQ(rules.rules[4].rate, 0.5);
}

TEST(SampleRulesParseTest, EveryLevelNameInAnyCase) {
  const char* names[] = {"trace", "Debug", "INFO", "warn", "eRRor", "critical"};
  for (int i = 0; i < 6; ++i) {
    const SampleRules rules = parse_ok(std::string(names[i]) + "=0.5");
    ASSERT_EQ(rules.rules.size(), 1U);
    EXPECT_EQ(rules.rules[0].level, static_cast<Level>(i)) << names[i];
  }
  // The one level parser: "warning" is warn here as in RINGTAIL_LEVEL.
  EXPECT_EQ(parse_ok("warning=0.5").rules[0].level, Level::kWarn);
}

TEST(SampleRulesParseTest, MessagesAndFilesMayHoldSeparators) {
  const SampleRules rules = parse_ok("msg:a=b: c=0.5,MSG: spaced=1,site:C:/w/x.cpp:7=0.2");
  ASSERT_EQ(rules.rules.size(), 3U);
  EXPECT_EQ(rules.rules[0].message, "a=b: c");   // the rate starts after the last '='
  EXPECT_EQ(rules.rules[1].message, " spaced");  // bytes after "msg:", verbatim
  EXPECT_EQ(rules.rules[2].file, "C:/w/x.cpp");  // the line after the last ':'
  EXPECT_EQ(rules.rules[2].line, 7U);
}

TEST(SampleRulesParseTest, RatesArePlainDecimalsInTheUnitInterval) {
  for (const char* good : {"0", "1", "0.0", "1.0", "1.", ".5", "0.000001", "0.99999999999999999999"}) {
    EXPECT_TRUE(parse_sample_rules(std::string("info=") + good).ok()) << good;
  }
  for (const char* bad : {"", "1.5", "-0.1", "+0.5", "1e-3", "nan", "inf", "0..1", ".", "0,5", "0.5x", "1.0000001"}) {
    const absl::StatusOr<SampleRules> rules = parse_sample_rules(std::string("info=") + bad);
    EXPECT_FALSE(rules.ok()) << bad;
  }
}

TEST(SampleRulesParseTest, ErrorsNameTheBadItem) {
  struct Case {
    const char* text;
    const char* named;  // the error must contain this
  };
  const Case cases[] = {
      {"debug", "sampling rule 1 \"debug\": expected selector=rate"},
      {"debug=0.1,verbose=0.5", "sampling rule 2 \"verbose=0.5\""},
      {"off=0.5", "\"off\" is not a level"},
      {"OFF=0.5", "\"OFF\" is not a level"},
      {"info=2", "rate \"2\" is not a decimal between 0 and 1"},
      {"msg:=0.1", "msg: needs a message"},
      {"site:agent.cpp=0.1", "expected site:<file>:<line>"},
      {"site::5=0.1", "expected site:<file>:<line>"},
      {"site:agent.cpp:0=0.1", "\"0\" is not a line number"},
      {"site:agent.cpp:x1=0.1", "\"x1\" is not a line number"},
      {"site:agent.cpp:99999999999=0.1", "is not a line number"},
      {"debug=0.1,", "sampling rule 2 \"\": empty rule"},
      {"debug=0.1,,info=1", "sampling rule 2 \"\": empty rule"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<SampleRules> rules = parse_sample_rules(c.text);
    ASSERT_FALSE(rules.ok()) << c.text;
    EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(rules.status().message().find(c.named), absl::string_view::npos)
        << c.text << " -> " << rules.status().message();
  }
}

TEST(SampleRulesParseTest, TooLongTextIsRejected) {
  std::string text = "info=0.5";
  while (text.size() <= kSampleRulesBytes) text += ",info=0.5";
  const absl::StatusOr<SampleRules> rules = parse_sample_rules(text);
  ASSERT_FALSE(rules.ok());
  EXPECT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SampleRulesMatchTest, SiteBeatsMessageBeatsLevelInAnyOrder) {
  for (const char* text : {"info=0.1,msg:hello=0.2,site:a.cpp:3=0.3", "site:a.cpp:3=0.3,msg:hello=0.2,info=0.1"}) {
    const SampleRules rules = parse_ok(text);
    EXPECT_EQ(keep_for(rules, Level::kInfo, "hello", "/w/src/a.cpp", 3), keep_word(0.3)) << text;
    EXPECT_EQ(keep_for(rules, Level::kInfo, "hello", "/w/src/a.cpp", 4), keep_word(0.2)) << text;
    EXPECT_EQ(keep_for(rules, Level::kInfo, "bye", "/w/src/a.cpp", 4), keep_word(0.1)) << text;
    EXPECT_EQ(keep_for(rules, Level::kWarn, "bye", "/w/src/a.cpp", 4), 0U) << text;  // no rule: keep all
    // A site rule applies whatever the site's level and message.
    EXPECT_EQ(keep_for(rules, Level::kError, "other", "a.cpp", 3), keep_word(0.3)) << text;
  }
}

TEST(SampleRulesMatchTest, LastAmongEqualsWins) {
  EXPECT_EQ(keep_for(parse_ok("info=0.1,info=0.7"), Level::kInfo, "m", "f.cpp", 1), keep_word(0.7));
  EXPECT_EQ(keep_for(parse_ok("msg:m=0,msg:m=1"), Level::kInfo, "m", "f.cpp", 1), 0U);
  EXPECT_EQ(keep_for(parse_ok("site:f.cpp:1=1,site:x/f.cpp:1=0"), Level::kInfo, "m", "x/f.cpp", 1), 1U);
  // A more specific rule of rate 1 exempts a site from a level rule.
  EXPECT_EQ(keep_for(parse_ok("info=0.1,msg:m=1"), Level::kInfo, "m", "f.cpp", 1), 0U);
}

TEST(SampleRulesMatchTest, MessagesMatchExactly) {
  const SampleRules rules = parse_ok("msg:tool call=0");
  EXPECT_EQ(keep_for(rules, Level::kInfo, "tool call", "f.cpp", 1), 1U);
  EXPECT_EQ(keep_for(rules, Level::kInfo, "tool call ", "f.cpp", 1), 0U);
  EXPECT_EQ(keep_for(rules, Level::kInfo, "Tool call", "f.cpp", 1), 0U);
  EXPECT_EQ(keep_for(rules, Level::kInfo, "tool", "f.cpp", 1), 0U);
}

TEST(SampleRulesMatchTest, PathSuffixOnASlashBoundary) {
  EXPECT_TRUE(path_suffix_matches("src/agent.cpp", "agent.cpp"));
  EXPECT_TRUE(path_suffix_matches("/w/src/agent.cpp", "src/agent.cpp"));
  EXPECT_TRUE(path_suffix_matches("agent.cpp", "agent.cpp"));
  EXPECT_TRUE(path_suffix_matches("/w/src/agent.cpp", "/w/src/agent.cpp"));
  EXPECT_TRUE(path_suffix_matches("/w/src/agent.cpp", "/src/agent.cpp"));
  EXPECT_FALSE(path_suffix_matches("src/subagent.cpp", "agent.cpp"));
  EXPECT_FALSE(path_suffix_matches("agent.cpp", "src/agent.cpp"));
  EXPECT_FALSE(path_suffix_matches("agent.cpp", ""));
  EXPECT_FALSE(path_suffix_matches("src/agent.cc", "agent.cpp"));
}

// A header in ordinary memory, zeroed as a fresh segment's is.
std::unique_ptr<SegmentHeader> fresh_header() { return std::make_unique<SegmentHeader>(); }

TEST(SampleRulesTextTest, RoundTrip) {
  auto header = fresh_header();
  absl::StatusOr<std::string> text = load_sample_rules_text(*header);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "");

  ASSERT_TRUE(store_sample_rules_text(*header, "debug=0.1,msg:tool call=0.5").ok());
  EXPECT_EQ(header->sample_rules_version.load(), 2U);
  text = load_sample_rules_text(*header);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "debug=0.1,msg:tool call=0.5");

  ASSERT_TRUE(store_sample_rules_text(*header, "info=1").ok());  // shorter: the old tail is cleared
  EXPECT_EQ(header->sample_rules_version.load(), 4U);
  EXPECT_EQ(*load_sample_rules_text(*header), "info=1");
  EXPECT_EQ(header->sample_rules[6], '\0');

  const std::string full(kSampleRulesBytes, 'x');
  ASSERT_TRUE(store_sample_rules_text(*header, full).ok());
  EXPECT_EQ(*load_sample_rules_text(*header), full);

  ASSERT_TRUE(store_sample_rules_text(*header, "").ok());
  EXPECT_EQ(*load_sample_rules_text(*header), "");
}

TEST(SampleRulesTextTest, TooLongTextIsNotWritten) {
  auto header = fresh_header();
  ASSERT_TRUE(store_sample_rules_text(*header, "info=0.5").ok());
  const absl::Status s = store_sample_rules_text(*header, std::string(kSampleRulesBytes + 1, 'x'));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(header->sample_rules_version.load(), 2U);
  EXPECT_EQ(*load_sample_rules_text(*header), "info=0.5");
}

TEST(SampleRulesTextTest, Malicious_LengthPastTheTextIsDataLoss) {
  auto header = fresh_header();
  header->sample_rules_bytes.store(kSampleRulesBytes + 1);
  EXPECT_EQ(load_sample_rules_text(*header).status().code(), absl::StatusCode::kDataLoss);
  header->sample_rules_bytes.store(UINT32_MAX);
  EXPECT_EQ(load_sample_rules_text(*header).status().code(), absl::StatusCode::kDataLoss);
}

TEST(SampleRulesTextTest, Malicious_VersionStuckOddGivesUpAndAWriterTakesOver) {
  auto header = fresh_header();
  header->sample_rules_version.store(7);  // a writer died mid-write (or a hostile one)
  EXPECT_EQ(load_sample_rules_text(*header, 20).status().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(store_sample_rules_text(*header, "warn=0.5").ok());  // waits a little, then takes over
  EXPECT_EQ(header->sample_rules_version.load(), 10U);
  EXPECT_EQ(*load_sample_rules_text(*header), "warn=0.5");
}

TEST(SampleRulesTextTest, ConcurrentReadersNeverSeeATornText) {
  auto header = fresh_header();
  // Two texts of different lengths and bytes: any mix of them is neither.
  const std::string a = "debug=0.1,msg:" + std::string(300, 'a') + "=0.5";
  const std::string b = "info=0.9,site:" + std::string(700, 'b') + ".cpp:12=0";
  ASSERT_TRUE(store_sample_rules_text(*header, a).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      if (!store_sample_rules_text(*header, i % 2 == 0 ? b : a).ok()) ADD_FAILURE() << "store failed";
    }
  });
  std::vector<std::thread> readers;
  std::atomic<int> stable{0};
  std::atomic<int> torn{0};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      // Few enough for a TSan build (every byte is an atomic access), plenty to interleave.
      for (int i = 0; i < 4000; ++i) {
        const absl::StatusOr<std::string> text = load_sample_rules_text(*header, 1000);
        if (!text.ok()) continue;  // kept changing: allowed, never wrong
        if (*text == a || *text == b) {
          stable.fetch_add(1);
        } else {
          torn.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : readers) t.join();
  stop.store(true);
  writer.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(stable.load(), 0);
}

}  // namespace
}  // namespace ringtail::shm
