#include "ringtail/reader/ingest/mapping_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace ringtail::reader {
namespace {

// One registered mapping. `base` is 0 for a free entry; an entry is filled
// (bytes, then base, release) before the mapping is used and emptied (base
// first) before it is unmapped, so the handler, which loads base with
// acquire and then bytes, never acts on a half-written entry.
struct Entry {
  std::atomic<uintptr_t> base{0};
  std::atomic<size_t> bytes{0};
  std::atomic<uint32_t> cut{0};
  std::atomic<bool> taken{false};  // reserved by a guard (base may still be 0)
};

Entry g_entries[MappingGuard::kMaxMappings];
std::atomic<int> g_high_water{0};  // entries [0, high water) may be in use
uintptr_t g_page_bytes = 4096;
struct sigaction g_previous {};

void chain_to_previous(int signal, siginfo_t* info, void* context) {
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(signal, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(signal);
    return;
  }
  // The default action: returning re-runs the access, which faults again
  // with the default disposition in place, and the process ends by SIGBUS.
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  ::sigaction(signal, &defaults, nullptr);
}

void on_sigbus(int signal, siginfo_t* info, void* context) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(info->si_addr);
  const int high = g_high_water.load(std::memory_order_acquire);
  for (int i = 0; i < high; ++i) {
    Entry& e = g_entries[i];
    // acquire: bytes was stored before base.
    const uintptr_t base = e.base.load(std::memory_order_acquire);
    if (base == 0 || address < base || address - base >= e.bytes.load(std::memory_order_relaxed)) continue;
    e.cut.store(1, std::memory_order_relaxed);
    const uintptr_t page = address & ~(g_page_bytes - 1);
    // The raw call: no interposed mmap (a sanitizer's) runs in a signal handler.
    const long mapped =
        ::syscall(SYS_mmap, page, g_page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (mapped != -1) return;  // the access is retried and reads zeros
    break;
  }
  chain_to_previous(signal, info, context);
}

void install_handler() {
  g_page_bytes = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, &g_previous);
}

}  // namespace

absl::StatusOr<MappingGuard> MappingGuard::guard(const void* base, size_t bytes) {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
  for (int i = 0; i < kMaxMappings; ++i) {
    bool expected = false;
    if (!g_entries[i].taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
    Entry& e = g_entries[i];
    e.cut.store(0, std::memory_order_relaxed);
    e.bytes.store(bytes, std::memory_order_relaxed);
    // release: bytes before base (the handler reads them in that order).
    e.base.store(reinterpret_cast<uintptr_t>(base), std::memory_order_release);
    int high = g_high_water.load(std::memory_order_relaxed);
    while (high < i + 1 && !g_high_water.compare_exchange_weak(high, i + 1, std::memory_order_release)) {
    }
    MappingGuard guard;
    guard.slot_ = i;
    return guard;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("more than ", kMaxMappings, " segments are open at once in this reader"));
}

MappingGuard& MappingGuard::operator=(MappingGuard&& other) noexcept {
  if (this != &other) {
    this->~MappingGuard();
    slot_ = other.slot_;
    other.slot_ = -1;
  }
  return *this;
}

MappingGuard::~MappingGuard() {
  if (slot_ < 0) return;
  Entry& e = g_entries[slot_];
  e.base.store(0, std::memory_order_release);
  // release: the entry is empty before another guard may take it.
  e.taken.store(false, std::memory_order_release);
  slot_ = -1;
}

void MappingGuard::mark_cut(int slot) {
  if (slot >= 0 && slot < kMaxMappings) g_entries[slot].cut.store(1, std::memory_order_relaxed);
}

bool MappingGuard::cut() const { return slot_ >= 0 && g_entries[slot_].cut.load(std::memory_order_relaxed) != 0; }

}  // namespace ringtail::reader
