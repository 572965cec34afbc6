#include "sinks/http_poster.hpp"

#include <algorithm>
#include <charconv>
#include <thread>

#include "internal/message_text.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader::internal {
namespace {

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

}  // namespace

std::string http_origin(const HttpTarget& target) {
  return cat(target.https ? "https://" : "http://", host_port_text(target.host, target.port));
}

absl::StatusOr<HttpTarget> parse_http_target(std::string_view uri, bool https, std::string_view rest,
                                             uint16_t default_port) {
  HttpTarget target;
  target.https = https;
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  target.path = slash == std::string_view::npos ? std::string("/") : std::string(rest.substr(slash));
  if (authority.find('@') != std::string_view::npos) {
    // Not echoed: the part before '@' may be a password.
    return absl::InvalidArgumentError(
        "--sink: a user or password in an http(s) URI is not taken (it would be printed): give "
        "--sink-header 'Authorization: ...' instead");
  }
  absl::StatusOr<HostPort> host_port = parse_host_port(authority, default_port);
  if (!host_port.ok()) return sink_uri_error(uri, host_port.status());
  target.host = std::move(host_port->host);
  target.port = host_port->port;
  for (const char c : target.path) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) return sink_uri_error(uri, "the path holds a space, control or non-ASCII byte");
  }
  return target;
}

void set_http_timeouts(httplib::Client& client, std::chrono::milliseconds timeout) {
  const auto seconds = static_cast<time_t>(timeout.count() / 1000);
  const auto micros = static_cast<time_t>(timeout.count() % 1000 * 1000);
  client.set_connection_timeout(seconds, micros);
  client.set_read_timeout(seconds, micros);
  client.set_write_timeout(seconds, micros);
}

HttpPoster::HttpPoster(const HttpTarget& endpoint)
    : client_(http_origin(endpoint)),
      origin_(http_origin(endpoint)),
      tries_(std::max(1, endpoint.tries)),
      first_retry_(endpoint.first_retry) {
  set_http_timeouts(client_, endpoint.timeout);
  client_.set_keep_alive(true);
  for (const auto& [name, value] : endpoint.headers) headers_.emplace(name, value);
}

absl::Status HttpPoster::post(const std::string& path, std::string_view body, const char* content_type) {
  std::chrono::milliseconds wait = first_retry_;
  std::string error;
  for (int attempt = 0; attempt < tries_; ++attempt) {
    if (attempt > 0) retries_.fetch_add(1, std::memory_order_relaxed);
    const httplib::Result result = client_.Post(path, headers_, body.data(), body.size(), content_type);
    std::chrono::milliseconds after{0};
    if (!result) {
      error = cat("POST ", origin_, path, ": ", httplib::to_string(result.error()));
    } else if (result->status >= 200 && result->status < 300) {
      return absl::OkStatus();
    } else if (result->status == 429 || result->status >= 500) {
      error = cat("POST ", origin_, path, ": HTTP ", std::to_string(result->status));
      after = retry_after(*result);
    } else {
      return absl::FailedPreconditionError(
          cat("POST ", origin_, path, ": HTTP ", std::to_string(result->status), " (refused, not retried)"));
    }
    if (attempt + 1 < tries_) {
      std::this_thread::sleep_for(std::max(wait, after));
      wait = std::min<std::chrono::milliseconds>(wait * 2, kMostRetryWait);
    }
  }
  return absl::UnavailableError(cat(error, " (", std::to_string(tries_), " tries)"));
}

}  // namespace ringtail::reader::internal
