#include "sinks/sink_uri.hpp"

#include <unistd.h>

#include <charconv>

#include "internal/message_text.hpp"

namespace ringtail::reader::internal {

absl::Status sink_uri_error(std::string_view uri, std::string_view why) {
  return absl::InvalidArgumentError(cat("--sink ", printable(uri), ": ", why));
}

absl::Status sink_uri_error(std::string_view uri, const absl::Status& why) {
  return sink_uri_error(uri, std::string_view(why.message().data(), why.message().size()));
}

absl::StatusOr<HostPort> parse_host_port(std::string_view authority, uint16_t default_port) {
  HostPort out;
  std::string_view port_text;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("an IPv6 address needs its closing ']'");
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      return absl::InvalidArgumentError("expected ':PORT' after the IPv6 address");
    }
    if (!authority.empty()) port_text = authority.substr(1);
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return absl::InvalidArgumentError("give a host: HOST[:PORT]");
  out.port = default_port;
  if (!port_text.empty()) {
    unsigned port = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return absl::InvalidArgumentError(cat("port '", printable(port_text), "' is not 1-65535"));
    }
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

std::vector<std::pair<std::string_view, std::string_view>> uri_options(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> options;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view option = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t equals = option.find('=');
    options.emplace_back(option.substr(0, equals),
                         equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1));
  }
  return options;
}

std::string host_port_text(std::string_view host, uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  return cat(v6 ? "[" : "", host, v6 ? "]" : "", ":", std::to_string(port));
}

std::string local_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

}  // namespace ringtail::reader::internal
