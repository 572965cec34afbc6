#include "ringtail/reader/clickhouse/clickhouse_client.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "internal/message_text.hpp"
#include "ringtail/reader/storage/retention.hpp"  // parse_age, parse_size
#include "ringtail/shm/errno_text.hpp"
#include "sinks/http_poster.hpp"  // set_http_timeouts
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;
using internal::printable;

constexpr std::string_view kHttp = "clickhouse://";
constexpr std::string_view kHttps = "clickhouse+https://";
constexpr size_t kMostErrorBytes = 300;
constexpr std::chrono::seconds kMostRetryWait{30};

bool is_identifier(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  if (absl::ascii_isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

absl::Status uri_error(std::string_view what, std::string_view uri, std::string_view why) {
  // The URI holds no secret (a password only ever comes from a file).
  return absl::InvalidArgumentError(cat(what, " ", printable(uri), ": ", why));
}

absl::StatusOr<std::string> read_password(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(cat("cannot read ", printable(path), ": ", shm::errno_text(errno)));
  std::string first;
  std::getline(in, first);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  return first;
}

// The first line of a server's answer, printable and bounded.
std::string answer_excerpt(std::string_view body) {
  body = internal::trim_space(body.substr(0, body.find('\n')));
  if (body.size() > kMostErrorBytes) body = body.substr(0, kMostErrorBytes);
  return printable(body);
}

// Why a request got no answer, in words (httplib's names are terse).
std::string transport_error(httplib::Error error, std::chrono::milliseconds timeout) {
  const std::string limit = cat(std::to_string(timeout.count()), " ms");
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect (refused or unreachable)";
    case httplib::Error::ConnectionTimeout:
      return cat("cannot connect within ", limit);
    case httplib::Error::Read:
      return cat("no answer within ", limit, " (or the connection closed)");
    case httplib::Error::Write:
      return cat("cannot send the request within ", limit, " (or the connection closed)");
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

std::string ClickHouseTarget::describe() const {
  return cat(https ? "https://" : "http://", internal::host_port_text(host, port), "/", qualified_table());
}

bool is_clickhouse_uri(std::string_view uri) { return uri.starts_with(kHttp) || uri.starts_with(kHttps); }

absl::StatusOr<ClickHouseTarget> parse_clickhouse_uri(std::string_view uri, std::string_view what,
                                                      std::chrono::milliseconds default_timeout) {
  ClickHouseTarget target;
  target.timeout = default_timeout;
  target.https = uri.starts_with(kHttps);
  if (!target.https && !uri.starts_with(kHttp)) {
    return uri_error(what, uri, "not a clickhouse:// or clickhouse+https:// URI");
  }
  std::string_view rest = uri.substr(target.https ? kHttps.size() : kHttp.size());
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return uri_error(what, uri, "give the database: clickhouse://HOST[:PORT]/DATABASE");
  }
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(cat(what,
                                          ": a user or password in a clickhouse:// URI is not taken (it would "
                                          "be printed): give ?user=NAME&password_file=PATH"));
  }
  absl::StatusOr<internal::HostPort> host_port = internal::parse_host_port(authority, target.https ? 8443 : 8123);
  if (!host_port.ok()) return uri_error(what, uri, std::string{host_port.status().message()});
  target.host = std::move(host_port->host);
  target.port = host_port->port;
  target.database = std::string(rest.substr(slash + 1));
  if (!is_identifier(target.database)) {
    return uri_error(what, uri, "the database must be a name of letters, digits and _ (not starting with a digit)");
  }
  if (query.empty()) return target;
  for (const auto& [name, value] : internal::uri_options(query)) {
    if (value.empty()) {
      return uri_error(what, uri, cat("option '", printable(name), "' needs a value (NAME=VALUE)"));
    }
    if (name == "table") {
      if (!is_identifier(value)) return uri_error(what, uri, "table= must be a name of letters, digits and _");
      target.table = std::string(value);
    } else if (name == "user") {
      target.user = std::string(value);
    } else if (name == "password_file") {
      absl::StatusOr<std::string> password = read_password(std::string(value));
      if (!password.ok()) return uri_error(what, uri, cat("password_file: ", std::string{password.status().message()}));
      target.password = *std::move(password);
    } else if (name == "batch_bytes") {
      absl::StatusOr<uint64_t> bytes = parse_size(value);
      if (!bytes.ok() || *bytes == 0) return uri_error(what, uri, "batch_bytes= takes a size such as 4M");
      target.batch_bytes = *bytes;
    } else if (name == "batch_age" || name == "timeout") {
      absl::StatusOr<std::chrono::seconds> age = parse_age(value);
      if (!age.ok() || age->count() == 0) {
        return uri_error(what, uri, cat(name, "= takes a time such as 1s, 30s or 2m"));
      }
      (name == "timeout" ? target.timeout : target.batch_age) = *age;
    } else {
      return uri_error(
          what, uri,
          cat("unknown option '", printable(name), "' (table, user, password_file, batch_bytes, batch_age, timeout)"));
    }
  }
  return target;
}

std::string sql_string_literal(std::string_view text) {
  std::string out = "'";
  out.reserve(text.size() + 2);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == '\'') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7F) {
      constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

class ClickHouseClient::Impl {
 public:
  explicit Impl(const ClickHouseTarget& target)
      : client_(cat(target.https ? "https://" : "http://", internal::host_port_text(target.host, target.port))),
        describe_(target.describe()),
        database_(target.database),
        table_(target.qualified_table()),
        tries_(std::max(1, target.tries)),
        first_retry_(target.first_retry),
        timeout_(target.timeout) {
    internal::set_http_timeouts(client_, target.timeout);
    client_.set_keep_alive(true);
    if (!target.user.empty() || !target.password.empty()) {
      const std::string user = target.user.empty() ? std::string("default") : target.user;
      headers_.emplace("Authorization", "Basic " + absl::Base64Escape(cat(user, ":", target.password)));
    }
  }

  // One request; the answer's body, or why it failed (and whether a retry may help).
  absl::StatusOr<std::string> post(const std::string& path, std::string_view body, bool* retryable) {
    httplib::Result result = client_.Post(path, headers_, body.data(), body.size(), "text/plain");
    if (!result) {
      *retryable = true;
      return no_answer(result.error());
    }
    if (result->status == 200) return std::move(result->body);
    *retryable = result->status >= 500 || result->status == 429;
    return refused(result->status, result->body);
  }

  absl::Status execute_streaming(std::string_view sql, const std::function<bool(std::string_view)>& receive) {
    httplib::Request request;
    request.method = "POST";
    request.path = cat("/?database=", database_, "&wait_end_of_query=1");
    request.body = std::string(sql);
    request.headers = headers_;
    request.headers.emplace("Content-Type", "text/plain");
    int status = 0;
    std::string error_body;
    bool stopped = false;
    request.response_handler = [&status](const httplib::Response& response) {
      status = response.status;
      return true;
    };
    request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
      if (status != 200) {
        if (error_body.size() < 4096) error_body.append(data, std::min(size, 4096 - error_body.size()));
        return true;
      }
      if (!receive(std::string_view(data, size))) {
        stopped = true;
        return false;
      }
      return true;
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    const bool sent = client_.send(request, response, error);
    if (stopped) return absl::OkStatus();
    if (!sent) return no_answer(error);
    if (status != 200) return refused(status, error_body);
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> execute(std::string_view sql) {
    bool retryable = false;
    return post(cat("/?database=", database_), sql, &retryable);
  }

  absl::Status create_database() {
    bool retryable = false;
    return post("/", cat("CREATE DATABASE IF NOT EXISTS ", database_), &retryable).status();
  }

  absl::Status insert(std::string_view format, std::string_view rows) {
    const std::string path =
        cat("/?database=", database_,
            "&query=", httplib::detail::encode_query_param(cat("INSERT INTO ", table_, " FORMAT ", format)));
    std::chrono::milliseconds wait = first_retry_;
    absl::Status last;
    for (int attempt = 0; attempt < tries_; ++attempt) {
      if (attempt > 0) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::sleep_for(wait);
        wait = std::min<std::chrono::milliseconds>(wait * 2, kMostRetryWait);
      }
      bool retryable = false;
      absl::StatusOr<std::string> answer = post(path, rows, &retryable);
      if (answer.ok()) return absl::OkStatus();
      last = answer.status();
      if (!retryable) return last;
    }
    return absl::UnavailableError(cat(std::string{last.message()}, " (", std::to_string(tries_), " tries)"));
  }

  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  absl::Status no_answer(httplib::Error error) const {
    return absl::UnavailableError(cat("ClickHouse ", describe_, ": ", transport_error(error, timeout_)));
  }
  // An answer other than 200: 5xx and 429 may pass (Unavailable); others will not.
  absl::Status refused(int status, std::string_view body) const {
    const std::string why =
        cat("ClickHouse ", describe_, ": HTTP ", std::to_string(status), ": ", answer_excerpt(body));
    return status >= 500 || status == 429 ? absl::UnavailableError(why) : absl::FailedPreconditionError(why);
  }

  httplib::Client client_;
  httplib::Headers headers_;
  std::string describe_;
  std::string database_;
  std::string table_;
  int tries_;
  std::chrono::milliseconds first_retry_;
  std::chrono::milliseconds timeout_;
  std::atomic<uint64_t> retries_{0};
};

ClickHouseClient::ClickHouseClient(const ClickHouseTarget& target) : impl_(std::make_unique<Impl>(target)) {}
ClickHouseClient::~ClickHouseClient() = default;

absl::StatusOr<std::string> ClickHouseClient::execute(std::string_view sql) { return impl_->execute(sql); }
absl::Status ClickHouseClient::execute_streaming(std::string_view sql,
                                                 const std::function<bool(std::string_view)>& receive) {
  return impl_->execute_streaming(sql, receive);
}
absl::Status ClickHouseClient::create_database() { return impl_->create_database(); }
absl::Status ClickHouseClient::insert(std::string_view format, std::string_view rows) {
  return impl_->insert(format, rows);
}
uint64_t ClickHouseClient::retries() const { return impl_->retries(); }

}  // namespace ringtail::reader
