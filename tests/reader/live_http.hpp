// A plain HTTP/1.0 GET over a fresh loopback connection, for tests of the
// drain's live endpoints and of what a real Prometheus answers: HTTP/1.0 so
// that neither server sends a chunked body. Header-only.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "loopback.hpp"

namespace ringtail::test {

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string head;
  std::string body;
};

inline HttpAnswer http_get(uint16_t port, const std::string& target) {
  HttpAnswer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return answer;
  timeval timeout{10, 0};  // a server that never answers fails the test rather than hangs it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const sockaddr_in address = loopback_address(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return answer;
  }
  const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return answer;
  }
  std::string all;
  char buffer[8192];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) all.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  const size_t end = all.find("\r\n\r\n");
  if (all.size() < 12 || end == std::string::npos) return answer;
  answer.status = std::stoi(all.substr(9, 3));  // "HTTP/1.x NNN"
  answer.head = all.substr(0, end);
  answer.body = all.substr(end + 4);
  return answer;
}

}  // namespace ringtail::test
