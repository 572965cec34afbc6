#include "ringtail/reader/sinks/http_sink.hpp"

#include "absl/strings/ascii.h"
#include "internal/message_text.hpp"
#include "sinks/http_poster.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {
namespace {

using internal::cat;

constexpr std::string_view kHttp = "http://";
constexpr std::string_view kHttps = "https://";

}  // namespace

bool is_http_uri(std::string_view uri) { return uri.starts_with(kHttp) || uri.starts_with(kHttps); }

absl::StatusOr<HttpTarget> parse_http_uri(std::string_view uri) {
  if (uri.starts_with(kHttps)) return internal::parse_http_target(uri, true, uri.substr(kHttps.size()), 443);
  if (uri.starts_with(kHttp)) return internal::parse_http_target(uri, false, uri.substr(kHttp.size()), 80);
  return internal::sink_uri_error(uri, "not an http:// or https:// URI");
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
    : target_(std::move(target)), poster_(std::make_unique<internal::HttpPoster>(target_)) {}

HttpSink::~HttpSink() = default;

absl::Status HttpSink::write(const EventBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  if (absl::Status due = backoff_.due(); !due.ok()) return due;
  absl::Status posted = poster_->post(target_.path, batch.text, "application/x-ndjson");
  if (!posted.ok()) return backoff_.failed(std::move(posted));
  backoff_.succeeded();
  return absl::OkStatus();
}

NetworkSinkCounts HttpSink::counts() const {
  NetworkSinkCounts out;
  out.requests_sent_again = poster_->retries();
  return out;
}

absl::Status HttpSink::flush() { return backoff_.last(); }

}  // namespace ringtail::reader
