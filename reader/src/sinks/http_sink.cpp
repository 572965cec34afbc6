#include "ringtail/reader/sinks/http_sink.hpp"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <thread>

#include "absl/strings/ascii.h"
#include "internal/message_text.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;

constexpr std::string_view kHttp = "http://";
constexpr std::string_view kHttps = "https://";
// The longest wait before a request is sent again (Retry-After is cut to it).
constexpr std::chrono::seconds kMostRetryWait{30};

// Retry-After in seconds (an HTTP-date is not taken: the backoff applies).
std::chrono::milliseconds retry_after(const httplib::Response& response) {
  const std::string text = response.get_header_value("Retry-After");
  unsigned seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::chrono::milliseconds(0);
  return std::chrono::seconds(std::min<unsigned>(seconds, kMostRetryWait.count()));
}

// "SCHEME://HOST:PORT", an IPv6 address in brackets.
std::string origin(const HttpTarget& target) {
  const bool v6 = target.host.find(':') != std::string::npos;
  return cat(target.https ? kHttps : kHttp, v6 ? "[" : "", target.host, v6 ? "]" : "", ":",
             std::to_string(target.port));
}

}  // namespace

class HttpSink::Client {
 public:
  explicit Client(const HttpTarget& target) : client_(origin(target)) {
    const auto seconds = static_cast<time_t>(target.timeout.count() / 1000);
    const auto micros = static_cast<time_t>(target.timeout.count() % 1000 * 1000);
    client_.set_connection_timeout(seconds, micros);
    client_.set_read_timeout(seconds, micros);
    client_.set_write_timeout(seconds, micros);
    client_.set_keep_alive(true);
    for (const auto& [name, value] : target.headers) headers_.emplace(name, value);
  }
  httplib::Result post(const std::string& path, std::string_view body) {
    return client_.Post(path, headers_, body.data(), body.size(), "application/x-ndjson");
  }

 private:
  httplib::Client client_;
  httplib::Headers headers_;
};

bool is_http_uri(std::string_view uri) { return uri.starts_with(kHttp) || uri.starts_with(kHttps); }

absl::StatusOr<HttpTarget> parse_http_uri(std::string_view uri) {
  HttpTarget target;
  std::string_view rest;
  if (uri.starts_with(kHttps)) {
    target.https = true;
    rest = uri.substr(kHttps.size());
  } else if (uri.starts_with(kHttp)) {
    rest = uri.substr(kHttp.size());
  } else {
    return internal::sink_uri_error(uri, "not an http:// or https:// URI");
  }
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  target.path = slash == std::string_view::npos ? std::string("/") : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    // Not echoed: the part before '@' may be a password.
    return absl::InvalidArgumentError(
        "--sink: a user or password in an http(s) URI is not taken (it would be printed): give "
        "--sink-header 'Authorization: ...' instead");
  }
  absl::StatusOr<internal::HostPort> host_port = internal::parse_host_port(authority, target.https ? 443 : 80);
  if (!host_port.ok()) return internal::sink_uri_error(uri, host_port.status());
  target.host = std::move(host_port->host);
  target.port = host_port->port;
  for (const char c : target.path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F)
      return internal::sink_uri_error(uri, "the path holds a space, control or non-ASCII byte");
  }
  return target;
}

absl::StatusOr<std::pair<std::string, std::string>> parse_http_header(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError("--sink-header: give 'NAME: VALUE'");
  }
  const std::string_view name = text.substr(0, colon);
  for (const char c : name) {
    // An HTTP token (RFC 9110 5.6.2).
    const bool token = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!token)
      return absl::InvalidArgumentError(cat("--sink-header: '", internal::printable(name), "' is not a name"));
  }
  const std::string_view value = internal::trim_space(text.substr(colon + 1));
  for (const char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return absl::InvalidArgumentError(
          cat("--sink-header ", internal::printable(name), ": the value holds a line break or NUL"));
    }
  }
  return std::make_pair(std::string(name), std::string(value));
}

HttpSink::HttpSink(HttpTarget target)
    : target_(std::move(target)), client_(std::make_unique<Client>(target_)), where_(origin(target_) + target_.path) {}

HttpSink::~HttpSink() = default;

absl::Status HttpSink::write(const EventBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  if (absl::Status due = backoff_.due(); !due.ok()) return due;
  std::chrono::milliseconds wait = target_.first_retry;
  std::string error;
  for (int attempt = 0; attempt < std::max(1, target_.tries); ++attempt) {
    if (attempt > 0) retries_.fetch_add(1, std::memory_order_relaxed);
    const httplib::Result result = client_->post(target_.path, batch.text);
    std::chrono::milliseconds after{0};
    if (!result) {
      error = cat("POST ", where_, ": ", httplib::to_string(result.error()));
    } else if (result->status >= 200 && result->status < 300) {
      backoff_.succeeded();
      return absl::OkStatus();
    } else if (result->status == 429 || result->status >= 500) {
      error = cat("POST ", where_, ": HTTP ", std::to_string(result->status));
      after = retry_after(*result);
    } else {
      // The collector refused these lines: sending them again would not help.
      return backoff_.failed(absl::FailedPreconditionError(
          cat("POST ", where_, ": HTTP ", std::to_string(result->status), " (refused, not retried)")));
    }
    if (attempt + 1 < target_.tries) {
      std::this_thread::sleep_for(std::max(wait, after));
      wait = std::min<std::chrono::milliseconds>(wait * 2, kMostRetryWait);
    }
  }
  return backoff_.failed(absl::UnavailableError(cat(error, " (", std::to_string(target_.tries), " tries)")));
}

absl::Status HttpSink::flush() { return backoff_.last(); }

}  // namespace ringtail::reader
