// Stack capture for ERROR events with an error field (Options::error_stacks,
// RINGTAIL_ERROR_STACKS=1).
//
// Opt-in and cold: only an ERROR or CRITICAL event that has an error field
// (kv("error", …)) on a producer started with error_stacks comes here. The
// cost is a stack walk (glibc backtrace(): libgcc's unwinder reading
// .eh_frame, some microseconds per frame) and a dladdr() per frame (a walk
// of the loaded modules' symbol tables, under the loader's lock): tens of
// microseconds to milliseconds per event, against some tens of nanoseconds
// for the event itself. Nothing is allocated here after a thread's first
// capture (which may allocate its thread-local buffer, and, the first in the
// process, load libgcc_s).
//
// The stack is formatted as text, one frame a line, innermost first:
//   <module>+0x<offset> (<symbol>+0x<offset>)
// module: the file name of the executable or library, offset: the return
// address's offset in it (what addr2line -e <module> takes), symbol: the
// nearest exported symbol, mangled, when dladdr finds one (functions of an
// executable only have one when it is linked with -rdynamic). The reader
// demangles the symbols. ringtail's own frames are left out.
//
// Threading: the text goes into a thread-local buffer of kStackTextBytes, to
// which ThreadState::error_stack then points: it stays valid until the
// thread's next capture (emit() uses it before it returns).
#include <dlfcn.h>
#include <execinfo.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "ringtail/detail/producer_state.hpp"

namespace ringtail::detail {
namespace {

// The most text one stack takes (less on rings whose largest record is
// under 16 KiB, see below); frames that do not fit whole are left out.
constexpr size_t kStackTextBytes = 4096;
// The most frames walked (the innermost ones).
constexpr int kMaxFrames = 64;

// Not initial-exec (unlike t_thread_state): 4 KiB would not fit in the static
// TLS surplus that a dlopen()ed libringtail.so may use. Reaching it through
// __tls_get_addr is fine on this cold path.
thread_local char t_stack_text[kStackTextBytes];

// Frames of functions in namespace ringtail::detail (from libringtail.so,
// whose symbols are exported) are ringtail's, not the caller's.
constexpr std::string_view kOwnPrefix = "_ZN8ringtail6detail";

// Appends to a fixed buffer; `full` once something did not fit.
class TextBuffer {
 public:
  TextBuffer(char* data, size_t capacity) : data_(data), capacity_(capacity) {}

  void text(std::string_view s) {
    if (s.size() > capacity_ - size_) {
      full_ = true;
      return;
    }
    std::memcpy(data_ + size_, s.data(), s.size());
    size_ += s.size();
  }
  void hex(uintptr_t value) {
    char digits[2 + 2 * sizeof(value)];
    char* end = digits + sizeof(digits);
    char* p = end;
    do {
      *--p = "0123456789abcdef"[value & 0xF];
      value >>= 4;
    } while (value != 0);
    *--p = 'x';
    *--p = '0';
    text(std::string_view(p, static_cast<size_t>(end - p)));
  }
  size_t size() const { return size_; }
  bool full() const { return full_; }
  void truncate(size_t size) {
    size_ = size;
    full_ = false;
  }

 private:
  char* data_;
  size_t capacity_;
  size_t size_ = 0;
  bool full_ = false;
};

std::string_view base_name(const char* path) {
  const std::string_view text(path);
  const size_t slash = text.rfind('/');
  return slash == std::string_view::npos ? text : text.substr(slash + 1);
}

// One frame, as the file comment shows; false if it is one of ringtail's.
bool append_frame(TextBuffer& out, void* address) {
  const auto pc = reinterpret_cast<uintptr_t>(address);
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) {
    out.hex(pc);
    return true;
  }
  if (info.dli_sname != nullptr && std::string_view(info.dli_sname).starts_with(kOwnPrefix)) return false;
  const std::string_view module = info.dli_fname[0] != '\0' ? base_name(info.dli_fname) : std::string_view("?");
  out.text(module);
  out.text("+");
  out.hex(pc - reinterpret_cast<uintptr_t>(info.dli_fbase));
  if (info.dli_sname != nullptr && info.dli_saddr != nullptr) {
    out.text(" (");
    out.text(info.dli_sname);
    out.text("+");
    out.hex(pc - reinterpret_cast<uintptr_t>(info.dli_saddr));
    out.text(")");
  }
  return true;
}

}  // namespace

// glibc's first backtrace() dlopen()s libgcc_s (allocating, taking the
// loader's lock): init() does it when error_stacks is on, and the first
// capture if init() did not, so that later captures only walk.
void warm_backtrace() noexcept {
  static const bool warmed = [] {
    void* frame[1];
    return backtrace(frame, 1) >= 0;
  }();
  (void)warmed;
}

// noinline: the first frame backtrace() reports is then this function's own,
// and is skipped as such.
[[gnu::noinline]] void capture_error_stack(ThreadState& thread) noexcept {
  warm_backtrace();
  void* frames[kMaxFrames];
  const int count = backtrace(frames, kMaxFrames);
  // A stack never makes up more than a quarter of the largest record, so
  // that asking for stacks does not make ERROR events too big for a small
  // ring (each frame is some 40 to 100 bytes).
  const size_t capacity = std::min<size_t>(kStackTextBytes, thread.writer.max_record_bytes / 4);
  TextBuffer out(t_stack_text, capacity);
  for (int i = 1; i < count; ++i) {
    const size_t before = out.size();
    if (before != 0) out.text("\n");
    if (!append_frame(out, frames[i])) {
      out.truncate(before);
      continue;
    }
    if (out.full()) {
      // Whole frames only: drop the one that did not fit, and stop.
      out.truncate(before);
      break;
    }
  }
  thread.error_stack = t_stack_text;
  thread.error_stack_bytes = static_cast<uint32_t>(out.size());
}

}  // namespace ringtail::detail
