#include "ringtail/reader/sinks/syslog_sink.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "internal/message_text.hpp"
#include "ringtail/reader/errno_texts.hpp"
#include "sinks/sink_uri.hpp"

namespace ringtail::reader {
namespace {

constexpr std::string_view kUdp = "syslog+udp://";
constexpr std::string_view kTcp = "syslog+tcp://";
constexpr std::string_view kUnix = "syslog+unix://";
constexpr uint16_t kDefaultPort = 514;
constexpr int kSendTimeoutSeconds = 5;

using internal::cat;

}  // namespace

bool is_syslog_uri(std::string_view uri) {
  return uri.starts_with(kUdp) || uri.starts_with(kTcp) || uri.starts_with(kUnix);
}

absl::StatusOr<SyslogTarget> parse_syslog_uri(std::string_view uri) {
  SyslogTarget target;
  std::string_view rest;
  if (uri.starts_with(kUdp)) {
    target.transport = SyslogTarget::Transport::kUdp;
    rest = uri.substr(kUdp.size());
  } else if (uri.starts_with(kTcp)) {
    target.transport = SyslogTarget::Transport::kTcp;
    rest = uri.substr(kTcp.size());
  } else if (uri.starts_with(kUnix)) {
    target.transport = SyslogTarget::Transport::kUnix;
    rest = uri.substr(kUnix.size());
  } else {
    return internal::sink_uri_error(uri, "not a syslog+udp://, syslog+tcp:// or syslog+unix:// URI");
  }
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  for (const auto& [name, value] : internal::uri_options(query)) {
    if (name != "facility")
      return internal::sink_uri_error(uri,
                                      cat("unknown option '", internal::printable(name), "' (facility= is known)"));
    const std::optional<int> facility = parse_syslog_facility(value);
    if (!facility) {
      return internal::sink_uri_error(
          uri, cat("facility '", internal::printable(value), "' is not a name such as local0 or daemon, or 0-23"));
    }
    target.facility = *facility;
  }
  if (target.transport == SyslogTarget::Transport::kUnix) {
    if (rest.empty() || rest.front() != '/')
      return internal::sink_uri_error(uri, "give an absolute socket path: syslog+unix:///dev/log");
    if (rest.size() >= sizeof(sockaddr_un::sun_path))
      return internal::sink_uri_error(uri, "the socket path is too long");
    target.path = std::string(rest);
    return target;
  }
  if (rest.find('/') != std::string_view::npos) {
    return internal::sink_uri_error(uri, "give HOST[:PORT], e.g. syslog+udp://127.0.0.1:514");
  }
  absl::StatusOr<internal::HostPort> host_port = internal::parse_host_port(rest, kDefaultPort);
  if (!host_port.ok()) return internal::sink_uri_error(uri, host_port.status());
  target.host = std::move(host_port->host);
  target.port = host_port->port;
  return target;
}

SyslogSink::SyslogSink(SyslogTarget target, std::string_view hostname)
    : target_(std::move(target)),
      writer_(target_.facility, hostname.empty() ? internal::local_host_name() : std::string(hostname)) {
  prepare_errno_texts();
}

SyslogSink::~SyslogSink() { close(); }

void SyslogSink::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string SyslogSink::describe() const {
  switch (target_.transport) {
    case SyslogTarget::Transport::kUdp:
      return absl::StrCat("syslog over UDP to ", target_.host, " port ", target_.port);
    case SyslogTarget::Transport::kTcp:
      return absl::StrCat("syslog over TCP to ", target_.host, " port ", target_.port);
    case SyslogTarget::Transport::kUnix:
      return absl::StrCat("syslog to the socket ", target_.path);
  }
  return "syslog";
}

absl::Status SyslogSink::connect() {
  if (target_.transport == SyslogTarget::Transport::kUnix) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(describe(), ": socket"));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, target_.path.data(), target_.path.size());  // length checked by the parser
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      const int error = errno;
      ::close(fd);
      return absl::ErrnoToStatus(error, absl::StrCat(describe(), ": connect"));
    }
    fd_ = fd;
    return absl::OkStatus();
  }
  const bool tcp = target_.transport == SyslogTarget::Transport::kTcp;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(target_.port);
  if (const int rc = ::getaddrinfo(target_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat(describe(), ": cannot resolve ", target_.host, ": ", gai_strerror(rc)));
  }
  int last_error = 0;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    if (tcp) {
      // A receiver that stops reading fails the send after this long.
      timeval timeout{kSendTimeoutSeconds, 0};
      (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    }
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      fd_ = fd;
      break;
    }
    last_error = errno;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) return absl::ErrnoToStatus(last_error, absl::StrCat(describe(), ": connect"));
  return absl::OkStatus();
}

absl::Status SyslogSink::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        return absl::DeadlineExceededError(
            absl::StrCat(describe(), ": the receiver took nothing for ", kSendTimeoutSeconds, " s"));
      }
      return absl::ErrnoToStatus(error, absl::StrCat(describe(), ": send"));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status SyslogSink::failed(absl::Status error) {
  close();
  return backoff_.failed(std::move(error));
}

absl::Status SyslogSink::send_datagrams() {
  constexpr size_t kPerCall = 64;
  std::array<mmsghdr, kPerCall> headers{};
  std::array<iovec, kPerCall> parts{};
  size_t sent = 0;
  while (sent < ends_.size()) {
    const size_t count = std::min(kPerCall, ends_.size() - sent);
    for (size_t i = 0; i < count; ++i) {
      const size_t begin = sent + i == 0 ? 0 : ends_[sent + i - 1];
      parts[i].iov_base = stream_.data() + begin;
      parts[i].iov_len = ends_[sent + i] - begin;
      headers[i] = mmsghdr{};
      headers[i].msg_hdr.msg_iov = &parts[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::sendmmsg(fd_, headers.data(), static_cast<unsigned>(count), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat(describe(), ": send"));
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyslogSink::write(const EventBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  if (batch.segment == nullptr) return absl::InvalidArgumentError("syslog sink: a batch without its segment");
  if (fd_ < 0) {
    if (absl::Status due = backoff_.due(); !due.ok()) return due;
    if (absl::Status s = connect(); !s.ok()) return failed(std::move(s));
  }
  if (target_.transport == SyslogTarget::Transport::kTcp) {
    // Octet counting (RFC 6587 3.4.1): every message is "LEN SP MSG".
    stream_.clear();
    for (const LineShape& shape : batch.lines) {
      message_.clear();
      writer_.append(message_, *batch.segment, batch, shape);
      absl::StrAppend(&stream_, message_.size(), " ", message_);
    }
    if (absl::Status s = send_all(stream_); !s.ok()) return failed(std::move(s));
  } else {
    // One datagram per line, the batch's written first, then sent many to a
    // system call (sendmmsg).
    stream_.clear();
    ends_.clear();
    for (const LineShape& shape : batch.lines) {
      const size_t start = stream_.size();
      writer_.append(stream_, *batch.segment, batch, shape);
      if (stream_.size() - start > kMaxSyslogDatagram) {
        stream_.resize(start + kMaxSyslogDatagram);
        cut_messages_.fetch_add(1, std::memory_order_relaxed);
      }
      ends_.push_back(stream_.size());
    }
    if (absl::Status s = send_datagrams(); !s.ok()) return failed(std::move(s));
  }
  backoff_.succeeded();
  return absl::OkStatus();
}

absl::Status SyslogSink::flush() { return backoff_.last(); }

}  // namespace ringtail::reader
