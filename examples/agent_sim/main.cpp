// agent_sim: a simulated AI agent runtime that logs what its operators want
// to see: tool calls, policy decisions, model costs, memory operations, errors.
//
//   agent_sim [--workers 4] [--steps 200] [--seed 1] [--service agent_sim]
//
// Each worker thread ("worker-0", ...) runs agent runs of a few steps; a step
// picks a tool, passes a policy check if the tool is risky, runs it (here: a
// short sleep), and asks a model what to do next. Every event goes into this
// thread's ring in /dev/shm/ringtail.<pid>.<start>; the `ringtail` reader
// turns them into JSONL in another process. The same seed gives the same
// events (measured durations aside).
#include <pthread.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "ringtail/ringtail.hpp"

namespace {

using ringtail::kv;
using Clock = std::chrono::steady_clock;

// --- Vocabularies ----------------------------------------------------------------

struct Tool {
  std::string_view name;
  std::string_view policy;        // checked before each call; empty: not risky
  std::string_view block_reason;  // why the policy blocks a call
  double typical_ms;              // typical latency
  double failure_rate;
};
constexpr Tool kTools[] = {
    {"web_search", "", "", 1.2, 0.06},
    {"read_file", "", "", 0.3, 0.02},
    {"write_file", "fs.workspace_only", "path outside the workspace", 0.5, 0.03},
    {"run_code", "sandbox.no_network", "code opens a network socket", 1.5, 0.08},
    {"vector_recall", "", "", 0.4, 0.01},
};

struct Model {
  std::string_view name;
  double usd_per_1k_tokens;
};
constexpr Model kModels[] = {{"gpt-4o", 0.005}, {"claude-sonnet", 0.003}, {"llama-3-70b", 0.0009}};

// A failed tool call's error: its kind, what happened, and the status the
// tool answered with (an HTTP status, or 128 + the signal that ended it).
struct ToolError {
  std::string_view type;
  std::string_view message;
  int64_t code;
};
constexpr ToolError kToolErrors[] = {
    {"TIMEOUT", "tool did not answer within 30 s", 504},
    {"RATE_LIMITED", "upstream answered 429 Too Many Requests", 429},
    {"NOT_FOUND", "no such file or URL", 404},
    {"SANDBOX_CRASH", "sandboxed process exited on SIGSEGV", 139},
};

constexpr int kStepsPerRun = 8;
constexpr int kUsers = 40;

// What the summary counts. A logging call returns true when its event was
// committed, false when it was filtered by level or dropped (its ring was full).
enum class Kind { kStepStart, kStepEnd, kPolicyCheck, kCost, kMemoryOp, kToolError, kCount };
constexpr std::array<std::string_view, static_cast<size_t>(Kind::kCount)> kKindNames = {
    "step.start", "step.end", "policy.check", "cost", "memory.op", "tool.error"};

struct Tally {
  std::array<uint64_t, static_cast<size_t>(Kind::kCount)> emitted{};
  uint64_t dropped = 0;
  uint64_t filtered = 0;

  void operator()(Kind kind, bool committed, ringtail::Level level = ringtail::Level::kInfo) {
    if (committed) {
      ++emitted[static_cast<size_t>(kind)];
    } else if (ringtail::enabled(level)) {
      ++dropped;
    } else {
      ++filtered;
    }
  }
};

// --- Seeded randomness -------------------------------------------------------------

class Dice {
 public:
  Dice(uint64_t seed, int worker) {
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(worker)};
    rng_.seed(seq);
  }

  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int between(int lo, int hi) { return std::uniform_int_distribution(lo, hi)(rng_); }
  double between(double lo, double hi) { return std::uniform_real_distribution(lo, hi)(rng_); }
  template <class T, size_t N>
  const T& pick(const T (&items)[N]) {
    return items[between(0, static_cast<int>(N) - 1)];
  }
  // "run-3f9a2c1b"
  std::string id(std::string_view prefix) {
    char hex[9];
    std::snprintf(hex, sizeof(hex), "%08x", static_cast<uint32_t>(rng_()));
    return std::string(prefix) + hex;
  }

 private:
  std::mt19937_64 rng_;
};

// --- One worker ----------------------------------------------------------------------

struct Config {
  int workers = 4;
  int steps = 200;
  uint64_t seed = 1;
  std::string service;
};

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

void run_worker(int worker, const Config& config, Tally& tally) {
  char name[16];
  std::snprintf(name, sizeof(name), "worker-%d", worker);
  ::pthread_setname_np(::pthread_self(), name);  // before the first event: the ring records it

  // Arguments of a filtered event are not evaluated: draw every random value
  // before the logging statement, so that the level never changes the run.
  Dice dice(config.seed, worker);
  const std::string agent_id = "agent-" + std::to_string(worker);  // each worker plays one agent
  std::string run_id, session_id, user_id;
  const Model* model = nullptr;
  ringtail::TraceParent run_trace;  // one trace per run: its steps are its spans
  int step_id = 0;

  for (int step = 0; step < config.steps; ++step) {
    if (step % kStepsPerRun == 0) {  // a new run: another user's task
      run_id = dice.id("run-");
      session_id = dice.id("sess-");
      user_id = "user-" + std::to_string(dice.between(1, kUsers));
      model = &dice.pick(kModels);
      run_trace = ringtail::TraceParent{ringtail::new_trace_id(), 0, 1};
      step_id = 0;
    }
    ++step_id;
    const Tool& tool = dice.pick(kTools);
    // Who the step works for, on every line it logs (as session_id, user_id),
    // and the step as a span of the run's trace (trace_id, span_id, and a
    // span.end line with its duration). Neither costs the events anything.
    const ringtail::ScopedContext context{kv("session_id", session_id), kv("user_id", user_id)};
    ringtail::Span span("step", run_trace, kv("tool", tool.name), kv("step_id", step_id));
    RINGTAIL_DEBUG("planner.choose", kv("run_id", run_id), kv("step_id", step_id), kv("tool", tool.name));
    tally(Kind::kStepStart, RINGTAIL_INFO("step.start", kv("agent_id", agent_id), kv("run_id", run_id),
                                          kv("step_id", step_id), kv("tool", tool.name)));
    const Clock::time_point started = Clock::now();

    // Risky tools pass a policy check first; a blocked call ends the step.
    if (!tool.policy.empty()) {
      if (dice.chance(0.1)) {
        tally(Kind::kPolicyCheck,
              RINGTAIL_WARN("policy.check", kv("agent_id", agent_id), kv("tool", tool.name), kv("policy", tool.policy),
                            kv("decision", "BLOCK"), kv("allow", false), kv("reason", tool.block_reason)),
              ringtail::Level::kWarn);
        tally(Kind::kStepEnd,
              RINGTAIL_INFO("step.end", kv("agent_id", agent_id), kv("run_id", run_id), kv("step_id", step_id),
                            kv("tool", tool.name), kv("status", "FAILURE"), kv("duration_ms", elapsed_ms(started))));
        span.set_status(ringtail::SpanStatus::kError);
        continue;
      }
      tally(Kind::kPolicyCheck,
            RINGTAIL_INFO("policy.check", kv("agent_id", agent_id), kv("tool", tool.name), kv("policy", tool.policy),
                          kv("decision", "ALLOW"), kv("allow", true), kv("reason", "within policy")));
    }

    // The tool call itself: 0.2 to 2 ms of simulated work.
    const double latency_ms = std::clamp(tool.typical_ms * dice.between(0.5, 1.5), 0.2, 2.0);
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(latency_ms));
    std::string_view status = "SUCCESS";
    if (dice.chance(tool.failure_rate)) {
      status = "FAILURE";
      span.set_status(ringtail::SpanStatus::kError);
      const ToolError& error = dice.pick(kToolErrors);
      tally(Kind::kToolError,
            RINGTAIL_ERROR("tool.error", kv("tool", tool.name),
                           kv("error", ringtail::error(error.type, error.message, error.code))),
            ringtail::Level::kError);
    } else if (dice.chance(0.05)) {
      status = "PARTIAL";
    }

    // Memory: recalls are tools of their own; useful results are stored.
    if (tool.name == "vector_recall" || (status == "SUCCESS" && dice.chance(0.2))) {
      const bool recall = tool.name == "vector_recall";
      const bool hit = !recall || dice.chance(0.7);
      const double memory_ms = dice.between(0.05, 0.8);
      tally(Kind::kMemoryOp, RINGTAIL_INFO("memory.op", kv("operation", recall ? "RECALL" : "STORE"),
                                           kv("user_id", user_id), kv("session_id", session_id),
                                           kv("status", hit ? "SUCCESS" : "FAILURE"), kv("duration_ms", memory_ms)));
    }
    tally(Kind::kStepEnd,
          RINGTAIL_INFO("step.end", kv("agent_id", agent_id), kv("run_id", run_id), kv("step_id", step_id),
                        kv("tool", tool.name), kv("status", status), kv("duration_ms", elapsed_ms(started))));

    // The model reads the result and picks the next step.
    const int tokens = dice.between(200, 4000);
    tally(Kind::kCost, RINGTAIL_INFO("cost", kv("model", model->name), kv("tokens", tokens),
                                     kv("cost_usd", tokens * model->usd_per_1k_tokens / 1000)));

    // The run is over: sometimes the user asks to forget the session.
    if (step_id == kStepsPerRun && dice.chance(0.25)) {
      const double memory_ms = dice.between(0.05, 0.3);
      const int entries = dice.between(1, 30);
      tally(Kind::kMemoryOp,
            RINGTAIL_INFO("memory.op", kv("operation", "FORGET"), kv("user_id", user_id), kv("session_id", session_id),
                          kv("status", "SUCCESS"), kv("duration_ms", memory_ms)));
      RINGTAIL_DEBUG("memory.forget", kv("session_id", session_id), kv("entries", entries));
    }
  }
}

// --- main --------------------------------------------------------------------------------

[[noreturn]] void exit_with_error(int status, const std::string& message) {
  std::fprintf(stderr, "agent_sim: %s\n", message.c_str());
  std::exit(status);
}

Config parse_args(int argc, char** argv) {
  Config config;
  CLI::App app{"Simulates an AI agent runtime that logs its steps to ringtail.", "agent_sim"};
  app.add_option("--workers", config.workers, "Worker threads")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--steps", config.steps, "Tool-call steps per worker")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--seed", config.seed, "Seed of the simulation")->capture_default_str();
  app.add_option("--service", config.service, "Service name (default: $RINGTAIL_SERVICE, else agent_sim)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) std::exit(app.exit(e));  // --help
    exit_with_error(2, std::string(e.what()) + " (see --help)");
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse_args(argc, argv);

  // Options from RINGTAIL_* variables; --service overrides RINGTAIL_SERVICE.
  absl::StatusOr<ringtail::Options> options = ringtail::options_from_env();
  if (!options.ok()) exit_with_error(1, options.status().ToString());
  if (!config.service.empty()) options->service = config.service;
  if (options->service.empty()) options->service = "agent_sim";
  // A real service would report the error and carry on without telemetry.
  if (absl::Status s = ringtail::init(*options); !s.ok()) exit_with_error(1, "ringtail::init: " + s.ToString());

  std::vector<Tally> tallies(config.workers);
  std::vector<std::thread> workers;
  for (int w = 0; w < config.workers; ++w) workers.emplace_back(run_worker, w, std::cref(config), std::ref(tallies[w]));
  for (std::thread& worker : workers) worker.join();
  ringtail::shutdown();  // marks the segment finished (it also runs at exit)

  Tally total;
  for (const Tally& t : tallies) {
    for (size_t k = 0; k < total.emitted.size(); ++k) total.emitted[k] += t.emitted[k];
    total.dropped += t.dropped;
    total.filtered += t.filtered;
  }
  std::string summary =
      "agent_sim: " + std::to_string(config.workers) + " workers x " + std::to_string(config.steps) + " steps:";
  for (size_t k = 0; k < total.emitted.size(); ++k) {
    summary += " " + std::string(kKindNames[k]) + "=" + std::to_string(total.emitted[k]);
  }
  summary += ", dropped=" + std::to_string(total.dropped);
  if (total.filtered != 0) summary += ", filtered=" + std::to_string(total.filtered);
  summary += ", segment /dev/shm/" + ringtail::segment_name();
  std::fprintf(stderr, "%s\n", summary.c_str());
  return 0;
}
