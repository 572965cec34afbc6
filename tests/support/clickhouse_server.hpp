// A real ClickHouse server for tests (Debian's clickhouse-server), started in
// the foreground with its own configuration and data under a test directory,
// on free loopback ports, and stopped (SIGTERM) at the end. Never the
// system service. A missing server is a test failure, not a skip.
//
//   ClickHouseServer server(dir / "clickhouse");
//   std::string error;
//   ASSERT_TRUE(server.start(&error)) << error;
//   drain --sink server.uri("db") ...
//   EXPECT_EQ(server.query("SELECT count() FROM db.events FINAL"), "42\n");
//
// query() runs clickhouse-client (a separate program from ringtail's own
// HTTP client), so what a test reads back does not rest on the code under
// test. Users: `default` without a password, and `reader` with the password
// "secret-pw", both from 127.0.0.1 only.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eventually.hpp"
#include "loopback.hpp"
#include "subprocess.hpp"

namespace ringtail::test {

inline constexpr const char* kClickHouseServer = "/usr/sbin/clickhouse-server";
inline constexpr const char* kClickHouseClient = "/usr/bin/clickhouse-client";

class ClickHouseServer {
 public:
  explicit ClickHouseServer(std::filesystem::path dir) : dir_(std::move(dir)) {}
  ~ClickHouseServer() { stop(); }
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;

  bool start(std::string* error) {
    for (const char* program : {kClickHouseServer, kClickHouseClient}) {
      if (::access(program, X_OK) != 0) {
        *error =
            std::string(program) +
            " is not installed: run scripts/install-deps.sh (Debian packages clickhouse-server, clickhouse-client)";
        return false;
      }
    }
    std::filesystem::create_directories(dir_ / "data");
    std::filesystem::create_directories(dir_ / "tmp");
    std::filesystem::create_directories(dir_ / "user_files");
    std::filesystem::create_directories(dir_ / "format_schemas");
    // Started again after stop(): the same ports and data (a server that
    // comes back where its clients left it).
    if (http_port_ == 0) {
      http_port_ = free_loopback_port(SOCK_STREAM);
      tcp_port_ = free_loopback_port(SOCK_STREAM);
      while (tcp_port_ == http_port_) tcp_port_ = free_loopback_port(SOCK_STREAM);
      write_config();
    }
    process_.emplace(kClickHouseServer, std::vector<std::string>{"--config-file=" + (dir_ / "config.xml").string()},
                     SubprocessOptions{{}, false, true});
    const bool ready = eventually([&] { return tcp_accepts(http_port_) || !process_->running(); },
                                  std::chrono::seconds(60), std::chrono::milliseconds(100));
    // The native port (clickhouse-client's) may open a moment after HTTP's.
    const bool answers = ready && eventually([&] { return !process_->running() || query("SELECT 1").has_value(); },
                                             std::chrono::seconds(30), std::chrono::milliseconds(200));
    if (!answers || !process_->running()) {
      *error = "clickhouse-server did not get ready on port " + std::to_string(http_port_) + ": " + process_->err() +
               last_error_ + log_tail();
      return false;
    }
    return true;
  }

  // SIGTERM (and SIGCONT, for a paused server), then waits for the exit.
  void stop() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      process_->signal(SIGCONT);
      process_->wait(60000);
    }
  }

  // The SIGSTOP/SIGCONT of a server that hangs (accepts, never answers).
  void pause() { process_->signal(SIGSTOP); }
  void resume() { process_->signal(SIGCONT); }

  uint16_t http_port() const { return http_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  // "clickhouse://127.0.0.1:PORT/DATABASE" + options ("?table=t").
  std::string uri(const std::string& database, const std::string& options = "") const {
    return "clickhouse://127.0.0.1:" + std::to_string(http_port_) + "/" + database + options;
  }

  // The answer of one statement (TabSeparated unless it says FORMAT), or
  // nullopt when clickhouse-client fails (its stderr in last_error()).
  std::optional<std::string> query(const std::string& sql) {
    Subprocess client(kClickHouseClient, {"--host", "127.0.0.1", "--port", std::to_string(tcp_port_), "--query", sql});
    if (client.wait(120000) != 0) {
      last_error_ = client.err();
      return std::nullopt;
    }
    return client.out();
  }
  const std::string& last_error() const { return last_error_; }
  // The end of the server's error log (for a failure's message).
  std::string log_tail() const {
    std::ifstream in(dir_ / "server.err.log", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  }

 private:
  void write_config() {
    std::ofstream config(dir_ / "config.xml");
    config << "<?xml version=\"1.0\"?>\n<yandex>\n"
           << "  <logger><level>warning</level><log>" << (dir_ / "server.log").string() << "</log><errorlog>"
           << (dir_ / "server.err.log").string() << "</errorlog></logger>\n"
           << "  <http_port>" << http_port_ << "</http_port>\n"
           << "  <tcp_port>" << tcp_port_ << "</tcp_port>\n"
           << "  <listen_host>127.0.0.1</listen_host>\n"
           << "  <path>" << (dir_ / "data").string() << "/</path>\n"
           << "  <tmp_path>" << (dir_ / "tmp").string() << "/</tmp_path>\n"
           << "  <user_files_path>" << (dir_ / "user_files").string() << "/</user_files_path>\n"
           << "  <format_schema_path>" << (dir_ / "format_schemas").string() << "/</format_schema_path>\n"
           << "  <users_config>" << (dir_ / "users.xml").string() << "</users_config>\n"
           << "  <mark_cache_size>67108864</mark_cache_size>\n"
           << "  <default_profile>default</default_profile>\n"
           << "  <default_database>default</default_database>\n"
           << "</yandex>\n";
    std::ofstream users(dir_ / "users.xml");
    users << "<?xml version=\"1.0\"?>\n<yandex>\n"
          << "  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>\n"
          << "  <users>\n"
          << "    <default><password></password><networks><ip>127.0.0.1</ip></networks>"
          << "<profile>default</profile><quota>default</quota></default>\n"
          << "    <reader><password>secret-pw</password><networks><ip>127.0.0.1</ip></networks>"
          << "<profile>default</profile><quota>default</quota></reader>\n"
          << "  </users>\n"
          << "  <quotas><default></default></quotas>\n"
          << "</yandex>\n";
  }

  std::filesystem::path dir_;
  uint16_t http_port_ = 0;
  uint16_t tcp_port_ = 0;
  std::optional<Subprocess> process_;
  std::string last_error_;
};

}  // namespace ringtail::test
