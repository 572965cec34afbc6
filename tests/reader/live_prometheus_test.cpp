// `ringtail drain --listen` (the real tool) scraped by a real Prometheus:
// forked producers log agent telemetry (steps with tools and statuses, LLM
// calls, policy checks, plain events at several levels, some inside a
// context so their lines have no layout); `ringtail drain --follow --out
// DIR --listen 127.0.0.1:PORT` drains them; the test starts /usr/bin/prometheus
// (Debian's prometheus) in the foreground with its own configuration and
// data directory, scraping the drain every second, and asks its HTTP API
// (/api/v1/query). What Prometheus holds must equal what the store holds:
// ringtail_events_total summed per service and level against the stored
// event lines, ringtail_agent_steps_total per tool against the stored
// step.end lines. Prometheus missing is a failure, not a skip
// (scripts/install-deps.sh installs it).
//
// And a failing HTTP sink (tests/reader/http_receiver.py --fail): the store
// keeps every event and /metrics shows the sink's failures.
//
// No wall-clock assertions: waits have deadlines only.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "eventually.hpp"
#include "http_collector.hpp"
#include "live_http.hpp"
#include "loopback.hpp"
#include "producer_child.hpp"
#include "ringtail/agent.hpp"
#include "ringtail/ringtail.hpp"
#include "stored_files.hpp"
#include "subprocess.hpp"

namespace ringtail::reader {
namespace {

using ringtail::kv;
using ringtail::test::ProducerChild;
using Counts = std::map<std::string, double>;  // "a|b" label values -> value

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr int kSteps = 120;  // per producer

std::string url_encoded(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

// A real Prometheus in the foreground on a free loopback port, scraping
// `target` every second; stopped (SIGTERM) at the end.
class Prometheus {
 public:
  explicit Prometheus(std::filesystem::path dir) : dir_(std::move(dir)) {}
  ~Prometheus() { stop(); }

  bool start(const std::string& target, std::string* error) {
    if (::access(kPrometheus, X_OK) != 0) {
      *error = std::string(kPrometheus) + " is not installed: run scripts/install-deps.sh (Debian package prometheus)";
      return false;
    }
    port_ = ringtail::test::free_loopback_port(SOCK_STREAM);
    std::ofstream conf(dir_ / "prometheus.yml");
    conf << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
         << "scrape_configs:\n  - job_name: ringtail\n    static_configs:\n      - targets: ['" << target << "']\n";
    conf.close();
    process_.emplace(
        kPrometheus,
        std::vector<std::string>{"--config.file=" + (dir_ / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_ / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
        ringtail::test::SubprocessOptions{{}, false, true});
    const bool ready = ringtail::test::eventually(
        [&] { return ringtail::test::http_get(port_, "/-/ready").status == 200 || !process_->running(); },
        std::chrono::seconds(60), std::chrono::milliseconds(100));
    if (!ready || !process_->running()) {
      *error = "prometheus did not get ready on port " + std::to_string(port_) + ": " + process_->err();
      return false;
    }
    return true;
  }
  void stop() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      process_->wait(30000);
    }
  }

  // An instant query's vector result, by the values of `labels` joined with
  // '|'; nullopt when the query fails.
  std::optional<Counts> query(const std::string& promql, const std::vector<std::string>& labels) const {
    const ringtail::test::HttpAnswer answer =
        ringtail::test::http_get(port_, "/api/v1/query?query=" + url_encoded(promql));
    if (answer.status != 200) return std::nullopt;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(answer.body).get(doc) != simdjson::SUCCESS) return std::nullopt;
    simdjson::dom::array result;
    if (doc["data"]["result"].get_array().get(result) != simdjson::SUCCESS) return std::nullopt;
    Counts counts;
    for (simdjson::dom::element series : result) {
      std::string key;
      for (const std::string& label : labels) {
        std::string_view value;
        if (series["metric"][label].get_string().get(value) != simdjson::SUCCESS) value = "";
        if (!key.empty()) key += '|';
        key += value;
      }
      std::string_view text;
      if (series["value"].at(1).get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      counts[key] = std::stod(std::string(text));
    }
    return counts;
  }

 private:
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  std::optional<ringtail::test::Subprocess> process_;
};

// A finished producer of `service`: kSteps steps over three tools (some
// failing, every third inside a context, so those lines have no layout),
// an LLM call and a policy check per step, plain events at DEBUG..ERROR.
ProducerChild agent_producer(const std::string& service) {
  ringtail::Options options;
  options.service = service;
  options.min_level = Level::kDebug;
  return ProducerChild::start(options, [](ProducerChild::Link&) {
    const char* tools[] = {"search", "write_file", "shell"};
    int lost = 0;
    auto logged = [&lost](bool committed) { lost += committed ? 0 : 1; };
    for (int i = 0; i < kSteps; ++i) {
      const char* tool = tools[i % 3];
      const auto status = i % 7 == 0 ? agent::Status::kFailure : agent::Status::kSuccess;
      if (i % 3 == 0) {
        ringtail::ScopedContext context{kv("session_id", "s-1")};
        logged(agent::step_end("run-1", i, tool, status, 0.5 * i));
      } else {
        logged(agent::step_end("run-1", i, tool, status, 0.5 * i));
      }
      logged(agent::llm_call(i % 2 == 0 ? "model-a" : "model-b", 100, 10, 0.01, 20));
      logged(
          agent::policy_check("pii", "regex", i % 5 == 0 ? agent::Decision::kBlock : agent::Decision::kAllow, "test"));
      if (i % 4 == 0) logged(RINGTAIL_DEBUG("tick", kv("i", i)));
      if (i % 10 == 0) logged(RINGTAIL_ERROR("oops", kv("i", i)));
    }
    return lost;
  });
}

struct Stored {
  Counts events;  // "service|level" -> event lines
  Counts steps;   // "tool" -> step.end lines
  size_t lines = 0;
};

Stored stored(const std::string& store) {
  Stored out;
  simdjson::dom::parser parser;
  for (const std::string& text : ringtail::test::read_stored_texts(store)) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      ++out.lines;
      simdjson::dom::element doc;
      if (parser.parse(line).get(doc) != simdjson::SUCCESS) {
        ADD_FAILURE() << "a stored line does not parse: " << line;
        continue;
      }
      int64_t seq = 0;
      if (doc["seq"].get_int64().get(seq) != simdjson::SUCCESS) continue;  // not an event line
      const std::string service(doc["service"].get_string().value_unsafe());
      const std::string level(doc["level"].get_string().value_unsafe());
      std::string key = service;
      key += '|';
      key += level;
      out.events[key] += 1;
      if (doc["message"].get_string().value_unsafe() == "step.end") {
        out.steps[std::string(doc["tool"].get_string().value_unsafe())] += 1;
      }
    }
  }
  return out;
}

double total(const Counts& counts) {
  double sum = 0;
  for (const auto& [key, value] : counts) sum += value;
  return sum;
}

std::string text_of(const Counts& counts) {
  std::string out;
  for (const auto& [key, value] : counts) out += key + "=" + std::to_string(value) + " ";
  return out;
}

class LivePrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ringtail::test::tool_built("ringtail"));
    char templ[] = "/tmp/ringtail-live-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(LivePrometheusTest, WhatPrometheusScrapesEqualsWhatTheStoreHolds) {
  ProducerChild a = agent_producer("live-prom-a");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_EQ(a.join(), 0) << "producer a lost events";
  ProducerChild b = agent_producer("live-prom-b");
  ASSERT_TRUE(b.ok()) << b.error();
  ASSERT_EQ(b.join(), 0) << "producer b lost events";
  // Per producer: kSteps each of step.end, llm.call, policy.check; DEBUG every 4th; ERROR every 10th.
  constexpr int kLoggedPerProducer = 3 * kSteps + (kSteps + 3) / 4 + (kSteps + 9) / 10;
  const double logged = 2.0 * kLoggedPerProducer;

  const uint16_t port = ringtail::test::free_loopback_port(SOCK_STREAM);
  ASSERT_NE(port, 0);
  const std::string store = (dir_ / "store").string();
  ringtail::test::Tool drain({"drain", "--follow", "--pid", std::to_string(a.pid()), "--pid", std::to_string(b.pid()),
                              "--out", store, "--listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(drain.wait_for_err("serving /metrics")) << drain.err();

  std::filesystem::create_directories(dir_ / "prometheus");
  Prometheus prometheus(dir_ / "prometheus");
  std::string error;
  ASSERT_TRUE(prometheus.start("127.0.0.1:" + std::to_string(port), &error)) << error;

  // Scraped once everything was drained: the totals stop moving at `logged`.
  std::optional<Counts> events;
  const bool scraped = ringtail::test::eventually(
      [&] {
        events = prometheus.query("sum by (service, level) (ringtail_events_total)", {"service", "level"});
        return events && total(*events) == logged;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(250));
  ASSERT_TRUE(scraped) << "Prometheus has " << (events ? text_of(*events) : "no answer") << "; expected " << logged
                       << " events; drain: " << drain.err();
  const std::optional<Counts> steps = prometheus.query("sum by (tool) (ringtail_agent_steps_total)", {"tool"});
  ASSERT_TRUE(steps.has_value());
  const std::optional<Counts> decisions =
      prometheus.query("sum by (decision) (ringtail_policy_decisions_total)", {"decision"});
  ASSERT_TRUE(decisions.has_value());
  const std::optional<Counts> buckets =
      prometheus.query(R"(sum by (le) (ringtail_agent_step_duration_seconds_bucket{le="+Inf"}))", {"le"});
  ASSERT_TRUE(buckets.has_value());
  prometheus.stop();

  ASSERT_TRUE(drain.signal(SIGINT));
  ASSERT_EQ(drain.wait(), 0) << drain.err();
  const Stored held = stored(store);
  EXPECT_EQ(total(held.events), logged);
  EXPECT_EQ(*events, held.events) << "Prometheus: " << text_of(*events) << "\nstore: " << text_of(held.events);
  EXPECT_EQ(*steps, held.steps) << "Prometheus: " << text_of(*steps) << "\nstore: " << text_of(held.steps);
  EXPECT_EQ(held.steps.size(), 3U);
  EXPECT_EQ(total(*decisions), 2.0 * kSteps);
  constexpr int kBlockedPerProducer = (kSteps + 4) / 5;
  EXPECT_EQ(decisions->at("BLOCK"), 2.0 * kBlockedPerProducer);
  EXPECT_EQ(total(*buckets), 2.0 * kSteps);  // every step has a duration
}

// The value of the sample that starts with `series` in a scrape, -1 if none.
double sample(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

TEST_F(LivePrometheusTest, AFailingSinkCostsTheStoreNothingAndItsFailuresShowInMetrics) {
  // The test collector, refusing every POST.
  ringtail::test::HttpCollector collector(dir_ / "collector", {"--fail", "1000000", "--status", "503"});
  const uint16_t collector_port = collector.port();
  ASSERT_NE(collector_port, 0);
  constexpr int kEvents = 200;
  ringtail::Options options;
  options.service = "live-failing-sink";
  ProducerChild child = ProducerChild::start(options, [](ProducerChild::Link&) {
    int lost = 0;
    for (int i = 0; i < kEvents; ++i) lost += RINGTAIL_INFO("step", kv("i", i)) ? 0 : 1;
    return lost;
  });
  ASSERT_TRUE(child.ok()) << child.error();
  ASSERT_EQ(child.join(), 0);

  const uint16_t port = ringtail::test::free_loopback_port(SOCK_STREAM);
  ASSERT_NE(port, 0);
  const std::string store = (dir_ / "store").string();
  const std::string sink = "http://127.0.0.1:" + std::to_string(collector_port) + "/";
  ringtail::test::Tool drain({"drain", "--follow", "--pid", std::to_string(child.pid()), "--out", store, "--sink", sink,
                              "--listen", ":" + std::to_string(port)});
  ASSERT_TRUE(drain.wait_for_err("stats on http://127.0.0.1:" + std::to_string(port))) << drain.err();

  // The sink gives the batch up after its tries (503 each): its lines are failed lines.
  std::string metrics;
  const std::string failed = "ringtail_sink_failed_lines_total{sink=\"" + sink + "\",delivery=\"best_effort\"}";
  const bool failures_shown = ringtail::test::eventually(
      [&] {
        metrics = ringtail::test::http_get(port, "/metrics").body;
        return sample(metrics, failed) == kEvents;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(100));
  EXPECT_TRUE(failures_shown) << metrics << drain.err();
  EXPECT_GE(sample(metrics, "ringtail_sink_errors_total{sink=\"" + sink + "\",delivery=\"best_effort\"}"), 1);
  EXPECT_EQ(sample(metrics, "ringtail_sink_lines_total{sink=\"" + sink + "\",delivery=\"best_effort\"}"), 0);
  EXPECT_EQ(sample(metrics, "ringtail_events_total{service=\"live-failing-sink\",level=\"INFO\"}"), kEvents);
  EXPECT_EQ(sample(metrics, "ringtail_sink_lines_total{sink=\"store\",delivery=\"durable\"}"), kEvents);
  const ringtail::test::HttpAnswer stats = ringtail::test::http_get(port, "/stats");
  EXPECT_NE(stats.body.find("\"failed_lines\":" + std::to_string(kEvents)), std::string::npos) << stats.body;

  ASSERT_TRUE(drain.signal(SIGTERM));
  ASSERT_EQ(drain.wait(), 0) << drain.err();
  EXPECT_EQ(stored(store).lines, static_cast<size_t>(kEvents));
  EXPECT_NE(drain.out().find(std::to_string(kEvents) + " in failed writes"), std::string::npos) << drain.out();
}

TEST_F(LivePrometheusTest, ABadAddressIsAUsageErrorAndAPortInUseARuntimeErrorBeforeDraining) {
  for (const char* bad : {"9464", ":0", "999.1.1.1:80", "[::1:80"}) {
    const ringtail::test::Result r = ringtail::test::run(
        {"drain", "--once", "--pid", "2147483646", "--out", (dir_ / "s").string(), "--listen", bad});
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--listen"), std::string::npos) << r.err;
  }
  uint16_t port = 0;
  const int fd = ringtail::test::bound_loopback_socket(SOCK_STREAM, &port);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  const ringtail::test::Result r = ringtail::test::run({"drain", "--once", "--pid", "2147483646", "--out",
                                                        (dir_ / "s").string(), "--listen", ":" + std::to_string(port)});
  ::close(fd);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(port) + ": address in use"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "s")) << "the drain started before it failed";
  // --help says the endpoint has no authentication.
  const ringtail::test::Result help = ringtail::test::run({"drain", "--help"});
  EXPECT_NE(help.out.find("NO AUTHENTICATION"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace ringtail::reader
