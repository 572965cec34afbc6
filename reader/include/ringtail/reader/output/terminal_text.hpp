// Text from a segment or a store, made safe to print on a terminal.
//
// Service names, program names, file names and status messages can carry
// bytes a producer (or anyone who can write /dev/shm or the store) chose. A
// terminal acts on some of them: ESC starts sequences that move the cursor,
// rewrite the title or the clipboard, and C1 controls (U+0080..U+009F, e.g.
// U+009B, CSI) do the same on terminals that honour them. Every text the
// tools print that did not come from the tools themselves goes through
// terminal_safe(): such characters and bytes that are not UTF-8 become
// visible escapes, so a report line is always one inert line.
#pragma once

#include <string>
#include <string_view>

namespace ringtail::reader {

// `text` with every C0 control (including newline and tab), DEL, C1 control
// and byte that is not part of well-formed UTF-8 written as "\xNN" (one per
// byte), and '\' written as "\\" so that an escape in the input cannot pass
// for one of ours. Everything else (printable ASCII, well-formed UTF-8 from
// U+00A0 on) is kept as it is.
std::string terminal_safe(std::string_view text);

}  // namespace ringtail::reader
