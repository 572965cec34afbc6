// The parts of a sink URI (drain --sink) that every network sink shares:
// its scheme-specific rest split from an options query, and HOST[:PORT]
// with "[...]" around an IPv6 address. The sinks' parsers
// (syslog_sink.cpp, http_sink.cpp) put "--sink URI: " before these errors.
//
// Internal to the reader's sources (not installed). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ringtail::reader::internal {

struct HostPort {
  std::string host;  // without the brackets
  uint16_t port = 0;
};

// InvalidArgument "--sink URI: why" (the URI made printable).
absl::Status sink_uri_error(std::string_view uri, std::string_view why);
absl::Status sink_uri_error(std::string_view uri, const absl::Status& why);

// "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT"; `default_port` when none is
// given. Errors name what is wrong (an empty host, a port outside 1-65535).
absl::StatusOr<HostPort> parse_host_port(std::string_view authority, uint16_t default_port);

// The NAME=VALUE options of a URI's query ("facility=daemon&x=1"), in
// order; an option without '=' has an empty value.
std::vector<std::pair<std::string_view, std::string_view>> uri_options(std::string_view query);

// "HOST:PORT", an IPv6 address in brackets ("[::1]:9464").
std::string host_port_text(std::string_view host, uint16_t port);

// This machine's name (gethostname), or "" when it has none: what the
// sinks name the host with (syslog's HOSTNAME, OTLP's host.name).
std::string local_host_name();

}  // namespace ringtail::reader::internal
