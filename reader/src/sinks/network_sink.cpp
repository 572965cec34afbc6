#include "ringtail/reader/sinks/network_sink.hpp"

#include "ringtail/reader/clickhouse/clickhouse_client.hpp"
#include "ringtail/reader/clickhouse/clickhouse_sink.hpp"
#include "ringtail/reader/sinks/http_sink.hpp"
#include "ringtail/reader/sinks/otlp_sink.hpp"
#include "ringtail/reader/sinks/syslog_sink.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {

absl::StatusOr<std::unique_ptr<NetworkSink>> make_network_sink(std::string_view uri,
                                                               const NetworkSinkOptions& options) {
  if (is_http_uri(uri)) {
    absl::StatusOr<HttpTarget> target = parse_http_uri(uri);
    if (!target.ok()) return target.status();
    target->headers = options.http_headers;
    return std::make_unique<HttpSink>(*std::move(target));
  }
  if (is_otlp_uri(uri)) {
    absl::StatusOr<OtlpTarget> target = parse_otlp_uri(uri);
    if (!target.ok()) return target.status();
    target->http.headers = options.http_headers;
    return std::make_unique<OtlpSink>(*std::move(target), options.host_name);
  }
  if (is_syslog_uri(uri)) {
    absl::StatusOr<SyslogTarget> target = parse_syslog_uri(uri);
    if (!target.ok()) return target.status();
    return std::make_unique<SyslogSink>(*std::move(target), options.host_name);
  }
  if (is_clickhouse_uri(uri)) {
    absl::StatusOr<ClickHouseTarget> target = parse_clickhouse_uri(uri, "--sink");
    if (!target.ok()) return target.status();
    return std::make_unique<ClickHouseSink>(*std::move(target), options.host_name);
  }
  return internal::sink_uri_error(
      uri,
      "not a sink URI (syslog+udp://, syslog+tcp://, syslog+unix://, http://, https://, otlp+http://, "
      "otlp+https://, clickhouse://, clickhouse+https://)");
}

}  // namespace ringtail::reader
