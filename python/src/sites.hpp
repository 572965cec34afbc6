// Python call sites: which binding::Site an event of a message, keys and
// value types is written by.
//
// A C++ call site is a statement; in Python the same statement passes the
// same message object and, for keyword fields, the same tuple of keyword
// names (both are constants of the caller's code). So the first lookup is by
// the identity of those two objects and the level (no hashing of text); the
// entry it finds holds a reference to both, so their addresses cannot be
// reused while it exists. A miss (a message built at run time, a first call)
// looks the site up by its text. A new (level, message, keys, types) makes a
// site, up to a budget of half the segment's call-site table: past it, new
// messages share one site per level, keys and types, whose message is
// "python.dynamic" and whose first field "text" carries the message. So
// messages built at run time (f-strings) can never fill the table that C++
// and later Python call sites need. Needs the GIL.
#pragma once

#include <Python.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ringtail/binding.hpp"

namespace ringtail::python {

struct SiteChoice {
  binding::Site* site = nullptr;  // null: not writable (too many fields)
  bool message_as_text = false;   // the message goes first, as the field "text"
};

// Where a site is described from: its first caller's location.
struct SiteOrigin {
  std::string file;
  uint32_t line = 0;
  std::string function;
};

// The caller's Python frame (file, line, function), for a new site.
SiteOrigin caller_origin();

// Sets the budget of sites with their own message (init() calls it with
// half the call-site table).
void set_site_budget(uint32_t sites);

// The site for an event whose keys are `kwnames` (a tuple of str, or null for none).
SiteChoice find_site(Level level, PyObject* message, PyObject* kwnames, const shm::FieldType* types, uint32_t count);

// The same for keys given as text (LoggingHandler, structlog): no identity cache.
SiteChoice find_site(Level level, std::string_view message, const std::vector<std::string>& keys,
                     const shm::FieldType* types, uint32_t count, const SiteOrigin* origin);

// Sites made with their own message, and messages written as "python.dynamic" sites.
struct SiteCounts {
  uint64_t sites = 0;
  uint64_t dynamic_sites = 0;
  uint64_t budget = 0;
};
SiteCounts site_counts();

}  // namespace ringtail::python
