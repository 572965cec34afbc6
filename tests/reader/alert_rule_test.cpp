// The --alert rule parser (alerts/alert_rule.hpp) and the --alert-to target
// parser (alerts/alert_notifier.hpp): good rules with what they mean, and bad
// ones with the part of the error that names what is wrong (checked loosely:
// a substring), never echoing a control byte or a password.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ringtail/reader/alerts/alert_notifier.hpp"
#include "ringtail/reader/alerts/alert_rule.hpp"

namespace ringtail::reader {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(AlertRuleParse, TheIssuesExamples) {
  absl::StatusOr<AlertRule> denied = parse_alert_rule("denied=message=policy.check,allow=false");
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_EQ(denied->name, "denied");
  EXPECT_EQ(denied->condition, "message=policy.check,allow=false");
  ASSERT_EQ(denied->filter.clauses().size(), 2U);
  EXPECT_EQ(denied->filter.clauses()[0].key(), "message");
  EXPECT_EQ(denied->filter.clauses()[0].value(), JsonScalar(std::string("policy.check")));
  EXPECT_EQ(denied->filter.clauses()[1].key(), "allow");
  EXPECT_EQ(denied->filter.clauses()[1].value(), JsonScalar(false));
  EXPECT_FALSE(denied->filter.min_level());
  EXPECT_EQ(denied->count, 1U);  // the default: 1/1m
  EXPECT_EQ(denied->window_ns, 60 * kSecond);
  EXPECT_EQ(denied->window_text, "1m");

  absl::StatusOr<AlertRule> errors = parse_alert_rule("errors=level>=ERROR@10/1m");
  ASSERT_TRUE(errors.ok()) << errors.status();
  EXPECT_EQ(errors->name, "errors");
  EXPECT_TRUE(errors->filter.clauses().empty());
  EXPECT_EQ(errors->filter.min_level(), shm::Level::kError);
  EXPECT_EQ(errors->count, 10U);
  EXPECT_EQ(errors->window_ns, 60 * kSecond);
}

TEST(AlertRuleParse, SpacesUnitsLevelsAndEscapes) {
  absl::StatusOr<AlertRule> rule = parse_alert_rule(" slow-tools = duration_ms > 100 , tool=write_file @ 5/30s");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->name, "slow-tools");
  EXPECT_EQ(rule->filter.clauses().size(), 2U);
  EXPECT_EQ(rule->count, 5U);
  EXPECT_EQ(rule->window_ns, 30 * kSecond);
  EXPECT_EQ(rule->window_text, "30s");

  rule = parse_alert_rule("w_1=level >= warning,service=agent@1000/24h");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->filter.min_level(), shm::Level::kWarn);
  EXPECT_EQ(rule->count, 1000U);
  EXPECT_EQ(rule->window_ns, int64_t{24} * 3600 * kSecond);
  rule = parse_alert_rule("q=level>=\"critical\"");
  ASSERT_TRUE(rule.ok()) << rule.status();
  EXPECT_EQ(rule->filter.min_level(), shm::Level::kCritical);

  // \, and \@ are a comma and an @ inside a value; other backslashes stay.
  rule = parse_alert_rule(R"(r=reason=a\, b,user=bob\@example.com@2/1h)");
  ASSERT_TRUE(rule.ok()) << rule.status();
  ASSERT_EQ(rule->filter.clauses().size(), 2U);
  EXPECT_EQ(rule->filter.clauses()[0].value(), JsonScalar(std::string("a, b")));
  EXPECT_EQ(rule->filter.clauses()[1].value(), JsonScalar(std::string("bob@example.com")));
  EXPECT_EQ(rule->count, 2U);
  EXPECT_EQ(rule->window_ns, 3600 * kSecond);
  EXPECT_EQ(rule->condition, R"(reason=a\, b,user=bob\@example.com)");
  rule = parse_alert_rule(R"(r=text~^\d+\.\d+$,path="C:\\tmp")");
  ASSERT_TRUE(rule.ok()) << rule.status();
  ASSERT_EQ(rule->filter.clauses().size(), 2U);
  EXPECT_EQ(rule->filter.clauses()[0].value(), JsonScalar(std::string(R"(^\d+\.\d+$)")));
  EXPECT_EQ(rule->filter.clauses()[1].value(), JsonScalar(std::string(R"(C:\tmp)")));
}

TEST(AlertRuleParse, BadRulesSayWhatIsWrong) {
  struct Case {
    std::string rule;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"denied", "expected NAME=EXPR[,EXPR...][@COUNT/WINDOW]"},
      {"=allow=false", "is not a simple identifier"},
      {"1st=allow=false", "'1st' is not a simple identifier"},
      {"my rule=allow=false", "is not a simple identifier"},
      {"d.n=allow=false", "is not a simple identifier"},
      {std::string(65, 'a') + "=allow=false", "at most 64 bytes"},
      {"r=", "give at least one expression"},
      {"r=@1/1m", "give at least one expression"},
      {"r=a=1,,b=2", "expression 2 is empty (a comma inside a value is written \\,)"},
      {"r=a=1,", "expression 2 is empty"},
      {"r=a=1@0/1m", "COUNT 0 is not 1 to 1000"},
      {"r=a=1@1001/1m", "COUNT 1001 is not 1 to 1000"},
      {"r=a=1@99999999999999999999/1m", "is not @COUNT/WINDOW"},
      {"r=a=1@10", "'@10' is not @COUNT/WINDOW such as @10/1m"},
      {"r=a=1@x/1m", "is not @COUNT/WINDOW"},
      {"r=a=1@-1/1m", "is not @COUNT/WINDOW"},
      {"r=a=1@10/2d", "WINDOW '2d' is not 1s to 24h"},
      {"r=a=1@10/m", "WINDOW 'm' is not 1s to 24h (30s, 5m, 1h)"},
      {"r=a=1@10/1.5m", "WINDOW '1.5m' is not 1s to 24h"},
      {"r=a=1@10/5x", "WINDOW '5x' is not 1s to 24h"},
      {"r=a=1@10/0s", "WINDOW '0s' is not 1s to 24h"},
      {"r=a=1@10/25h", "WINDOW '25h' is not 1s to 24h"},
      {"r=a=1@10/86401s", "is not 1s to 24h"},
      {"r=user=bob@example.com", "(an @ inside a value is written \\@)"},
      {"r=a=1@1/1m@2/1m", "is not @COUNT/WINDOW"},
      {"r=level>=LOUD", "level>=LOUD: expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL"},
      {"r=level>=off", "level>=off: expected one of"},
      {"r=level>=INFO,level>=WARN", "level>= is given twice"},
      {"r=tool>>3", "in 'tool>>3': after 'tool>' expected a number"},
      {"r=a..b=1", "in 'a..b=1': the path 'a..b' has an empty segment"},
      {"r=arguments~(", "in 'arguments~('"},
  };
  for (const Case& c : cases) {
    const absl::StatusOr<AlertRule> rule = parse_alert_rule(c.rule);
    ASSERT_FALSE(rule.ok()) << c.rule;
    EXPECT_EQ(rule.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(rule.status().message());
    EXPECT_TRUE(message.starts_with("--alert '")) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << c.rule << " -> " << message;
  }
  // Too long; a control byte is quoted inertly, never echoed.
  const absl::StatusOr<AlertRule> long_rule = parse_alert_rule("r=text=" + std::string(5000, 'x'));
  ASSERT_FALSE(long_rule.ok());
  EXPECT_NE(long_rule.status().message().find("longer than 4096 bytes"), std::string::npos) << long_rule.status();
  EXPECT_LT(long_rule.status().message().size(), 200U);
  const absl::StatusOr<AlertRule> control = parse_alert_rule("a\x1b[2J=x=1");
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.status().message().find('\x1b'), std::string::npos);
  EXPECT_NE(control.status().message().find("\\x1b"), std::string::npos) << control.status();
}

TEST(AlertRuleParse, EveryRuleOfADrain) {
  absl::StatusOr<std::vector<AlertRule>> rules = parse_alert_rules({"a=x=1", "b=y=2@3/1h"});
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 2U);
  EXPECT_EQ((*rules)[1].name, "b");

  rules = parse_alert_rules({"a=x=1", "a=y=2"});
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("another rule is named 'a' already"), std::string::npos) << rules.status();

  std::vector<std::string> many;
  for (int i = 0; i <= 64; ++i) {
    std::string rule = "r";
    rule += std::to_string(i);
    rule += "=x=1";
    many.push_back(rule);
  }
  rules = parse_alert_rules(many);
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("at most 64 rules"), std::string::npos) << rules.status();
  many.pop_back();
  EXPECT_TRUE(parse_alert_rules(many).ok());
}

TEST(AlertTargetParse, WebhooksAndSyslog) {
  const std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", "Bearer t"}};
  absl::StatusOr<AlertTarget> target = parse_alert_target("https://hooks.example:8443/services/T0/B0/secret", headers);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->kind, AlertTarget::Kind::kWebhook);
  EXPECT_EQ(target->http.path, "/services/T0/B0/secret");
  EXPECT_EQ(target->http.headers, headers);
  // Reports name a webhook without its path (often its secret).
  EXPECT_EQ(alert_target_name(*target), "https://hooks.example:8443/...");

  target = parse_alert_target("syslog+unix:///dev/log?facility=daemon", headers);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->kind, AlertTarget::Kind::kSyslog);
  EXPECT_EQ(target->syslog.path, "/dev/log");
  EXPECT_EQ(target->syslog.facility, 3);
  EXPECT_EQ(alert_target_name(*target), "syslog+unix:///dev/log?facility=daemon");
  EXPECT_TRUE(parse_alert_target("syslog+udp://127.0.0.1:514", {}).ok());
  EXPECT_TRUE(parse_alert_target("syslog+tcp://[::1]:514", {}).ok());

  struct Case {
    std::string uri;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"ftp://h/", "--alert-to ftp://h/: not an alert target"},
           {"otlp+http://h:4318", "not an alert target"},
           {"http://h:0/", "--alert-to http://h:0/: "},
           {"syslog+udp://h:99999", "--alert-to syslog+udp://h:99999: port '99999' is not 1-65535"},
           {"syslog+unix://dev/log", "give an absolute socket path"},
           {"http://user:pa55word@h/", "--alert-to: a user or password"},
       }) {
    const absl::StatusOr<AlertTarget> bad = parse_alert_target(c.uri, {});
    ASSERT_FALSE(bad.ok()) << c.uri;
    const std::string message(bad.status().message());
    EXPECT_NE(message.find(c.says), std::string::npos) << c.uri << " -> " << message;
    EXPECT_EQ(message.find("pa55word"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace ringtail::reader
