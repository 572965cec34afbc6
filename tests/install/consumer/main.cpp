// Logs one event through an installed ringtail. Exits 0 only if the event was
// committed to the thread's ring.
#include <sys/mman.h>

#include <cstdio>
#include <string>

#include <ringtail/ringtail.hpp>

int main() {
  if (const absl::Status status = ringtail::init(); !status.ok()) {
    std::fprintf(stderr, "ringtail::init: %s\n", status.ToString().c_str());
    return 1;
  }
  const bool logged = RINGTAIL_INFO("hello", ringtail::kv("n", 1));
  const std::string name = ringtail::segment_name();
  std::printf("segment: %s\n", name.c_str());
  ringtail::shutdown();
  if (name.empty() || shm_unlink(("/" + name).c_str()) != 0) {
    std::perror("shm_unlink");
    return 1;
  }
  if (!logged) {
    std::fprintf(stderr, "RINGTAIL_INFO returned false\n");
    return 1;
  }
  std::printf("logged: ok\n");
  return 0;
}
