// Loopback sockets for tests of network sinks: a socket bound to a free port
// on 127.0.0.1 (a receiver, or a port to hand a server and then close), and a
// probe whether a TCP port accepts. Header-only.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>

namespace ringtail::test {

inline sockaddr_in loopback_address(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

// A socket of `type` (SOCK_DGRAM, SOCK_STREAM) bound to a free loopback
// port, which *port receives; receives wait at most `receive_timeout_s`, so
// a test waiting for what never comes fails rather than hangs. -1 on error.
inline int bound_loopback_socket(int type, uint16_t* port, int receive_timeout_s = 10) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address = loopback_address(0);
  socklen_t size = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(address.sin_port);
  timeval timeout{receive_timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// A loopback port of `type` that was free a moment ago (for a server the
// test starts next); 0 on error.
inline uint16_t free_loopback_port(int type) {
  uint16_t port = 0;
  const int fd = bound_loopback_socket(type, &port);
  if (fd < 0) return 0;
  ::close(fd);
  return port;
}

inline bool tcp_accepts(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in address = loopback_address(port);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace ringtail::test
