#include "ringtail/reader/errno_texts.hpp"

#include <cerrno>

#include "absl/status/status.h"

namespace ringtail::reader {

void prepare_errno_texts() { (void)absl::ErrnoToStatus(ENOENT, ""); }

}  // namespace ringtail::reader
