// Error type names and stack frames as a line shows them: a mangled C++ type
// name demangled, and in a frame "<module>+0x<offset> (<symbol>+0x<offset>)"
// (what the producer writes) the symbol demangled. Not API: the JSON
// formatter's helper (event_json.cpp).
//
// The text is untrusted shared memory and abi::__cxa_demangle parses a rich
// grammar, so only names of at most 512 bytes made of [A-Za-z0-9_$.] are
// given to it; other names, names that do not demangle and names that would
// demangle to more than 4096 bytes are shown as they are.
//
// Threading: what is demangled is cached per thread (a formatter runs on
// whichever decode thread drains its segment; no lock), up to 1024 names of
// each kind, after which a cache starts over. The text returned is the same
// for the same input every time (line bounds rely on it) and valid until the
// next call of the same function on the same thread.
#pragma once

#include <string_view>

namespace ringtail::reader::detail {

// `type` (a name the producer marked mangled) demangled, or as it is.
std::string_view shown_mangled_type(std::string_view type);
// `frame` with its symbol demangled, or as it is.
std::string_view shown_frame(std::string_view frame);

}  // namespace ringtail::reader::detail
